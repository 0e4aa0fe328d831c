"""Load test of the public intake: concurrent reporters against a real uvicorn server.

Starts ``tipaudit serve --intake-only`` in a subprocess on a fresh data folder (SQLite by
default, PostgreSQL with ``--database-url``), runs N reporter threads that each load the form
(for its CSRF token), submit a report and keep the receipt, for the given duration; then stops
the server and checks that every receipt the server acknowledged opens its report (present and
decryptable). Prints p50/p90/p99 latency of the submissions and the counts.

    .venv/bin/python bench/intake_load.py --reporters 50 --seconds 60
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
TIPAUDIT = ROOT / ".venv" / "bin" / "tipaudit"
RECEIPT = re.compile(r'<span class="receipt-group">([^<]+)</span>')
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
SECRET_KEY = "load-test-secret-key-0123456789-abcdefghij"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        TIPAUDIT_DATA_DIR=str(data_dir),
        TIPAUDIT_SECRET_KEY=SECRET_KEY,
        TIPAUDIT_LOG_LEVEL="WARNING",
        TIPAUDIT_REPORTS_MAX_SUBMISSIONS_PER_MINUTE="100000",
    )
    if database_url:
        env["TIPAUDIT_DATABASE_URL"] = database_url
    return env


def start_server(
    env: dict[str, str], port: int, *, intake_only: bool = True
) -> subprocess.Popen[bytes]:
    args = [str(TIPAUDIT), "serve", "--port", str(port)]
    if intake_only:
        args.append("--intake-only")
    log = Path(env["TIPAUDIT_DATA_DIR"]).parent / f"server-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as handle:
        process = subprocess.Popen(
            args, env=env, stdout=handle, stderr=handle, start_new_session=True
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/report/", timeout=2).status_code == 200:
                return process
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start in 60 s")


def prepare(env: dict[str, str]) -> None:
    """Create the organisation's report key (as `tipaudit serve` does for the console)."""
    subprocess.run([str(TIPAUDIT), "db", "upgrade"], env=env, check=False, capture_output=True)
    code = (
        "from tipaudit.services.container import build_services\n"
        "from tipaudit.settings import Settings\n"
        "s = build_services(Settings()); s.reports.ensure_key(); s.close()\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def submit_one(session: requests.Session, base: str, n: int) -> str:
    """Load the form, submit a report; return the receipt (raises on any failure)."""
    page = session.get(f"{base}/report/", timeout=30)
    page.raise_for_status()
    match = CSRF.search(page.text)
    if match is None:
        raise RuntimeError("no CSRF token on the form")
    response = session.post(
        f"{base}/report/",
        data={
            "csrf_token": match.group(1),
            "what": f"Load test report {n}: the recruiter kept our passports and charged a fee.",
            "country": "QA",
            "where": "Al Wakrah",
            "when": "2026",
            "subject_0_kind": "recruiter",
            "subject_0_name": "Agencia de prueba",
            "indicators": ["ILO-07", "TIP-FEES"],
        },
        timeout=60,
    )
    response.raise_for_status()
    groups = RECEIPT.findall(response.text)
    if not groups:
        raise RuntimeError("no receipt on the answer page")
    return " ".join(groups)


@dataclass
class Results:
    receipts: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def reporter(base: str, stop: threading.Event, results: Results, number: int) -> None:
    with requests.Session() as session:
        _report_until(base, stop, results, number, session)


def _report_until(
    base: str, stop: threading.Event, results: Results, number: int, session: requests.Session
) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        started = time.perf_counter()
        try:
            receipt = submit_one(session, base, number * 100_000 + n)
        except Exception as exc:  # noqa: BLE001 - every failure is counted, the run goes on
            with results.lock:
                results.errors.append(type(exc).__name__ + ": " + str(exc)[:200])
            continue
        elapsed = time.perf_counter() - started
        with results.lock:
            results.receipts.append(receipt)
            results.latencies.append(elapsed)


def run_reporters(base: str, count: int, seconds: float) -> Results:
    results = Results()
    stop = threading.Event()
    threads = [
        threading.Thread(target=reporter, args=(base, stop, results, i), daemon=True)
        for i in range(count)
    ]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    return results


def verify(env: dict[str, str], receipts: list[str]) -> tuple[int, list[str]]:
    """Open every receipt in a fresh process: (number opened, problems)."""
    code = (
        "import json, sys\n"
        "from tipaudit.services.container import build_services\n"
        "from tipaudit.settings import Settings\n"
        "s = build_services(Settings())\n"
        "receipts = json.load(sys.stdin)\n"
        "ok, bad = 0, []\n"
        "for r in receipts:\n"
        "    try:\n"
        "        view = s.reports.reporter_view(s.reports.open_with_receipt(r))\n"
        "        assert view is not None\n"
        "        ok += 1\n"
        "    except Exception as exc:\n"
        "        bad.append(type(exc).__name__ + ': ' + str(exc)[:120])\n"
        "s.close()\n"
        "print(json.dumps({'ok': ok, 'bad': bad}))\n"
    )
    import json

    verify_env = dict(env)
    # Opening thousands of receipts must not trip the guessing brake.
    verify_env["TIPAUDIT_REPORTS_RECEIPT_GLOBAL_FAILURES_PER_MINUTE"] = "1000000"
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(receipts),
        env=verify_env,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return int(result["ok"]), list(result["bad"])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reporters", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="tipaudit-load-"))
    env = server_env(workdir / "data", args.database_url)
    prepare(env)
    port = free_port()
    server = start_server(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        results = run_reporters(base, args.reporters, args.seconds)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    opened, problems = verify(env, results.receipts)
    lost = len(results.receipts) - opened
    lat = results.latencies
    print(
        f"reporters {args.reporters}, {args.seconds:.0f} s, database "
        f"{'PostgreSQL' if args.database_url else 'SQLite'}"
    )
    print(
        f"acknowledged {len(results.receipts)} ({len(results.receipts) / args.seconds:.1f}/s), "
        f"failed requests {len(results.errors)}, lost reports {lost}"
    )
    if lat:
        print(
            f"latency of a submission (form + post): p50 {percentile(lat, 0.5) * 1000:.0f} ms, "
            f"p90 {percentile(lat, 0.9) * 1000:.0f} ms, p99 {percentile(lat, 0.99) * 1000:.0f} ms, "
            f"max {max(lat) * 1000:.0f} ms, mean {statistics.mean(lat) * 1000:.0f} ms"
        )
    for error in sorted(set(results.errors))[:10]:
        print("  error:", error)
    for problem in problems[:10]:
        print("  not opened:", problem)
    sys.exit(1 if lost or problems else 0)


if __name__ == "__main__":
    main()
