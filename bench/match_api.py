"""``POST /match/{dataset}`` latency: one client, one query per request, one server worker.

    .venv/bin/python bench/match_api.py [--requests 2000] [--entries 0] [--port 8765]

Sets up a data folder in a temporary directory (deleted afterwards) with the UN Security
Council sample list and the fictional demo list (plus ``--entries`` generated entries, see
``bench/entity_data.py``), a vetting officer and an API token; starts ``tipaudit serve`` (one
uvicorn worker) as a subprocess; warms it up (the first request builds the match index and
loads rigour's name tables); then sends ``--requests`` single-query requests one after the
other from this process over one keep-alive connection: the UN names perturbed by yente and the
synthetic negatives, as yente clients would send them. Prints requests per second and the
latency percentiles, measured in the client.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from entity_data import generate_list, write_list

from tipaudit.core.roles import Role
from tipaudit.services.container import build_services
from tipaudit.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "src" / "tipaudit" / "screening" / "data"
FIXTURES = DATA / "eval" / "yente"


def _bodies(count: int) -> list[bytes]:
    rows: list[dict[str, str]] = []
    for name in ("positives_un_treated.csv", "validation_negatives_global.csv"):
        with (FIXTURES / name).open(encoding="utf-8", newline="") as handle:
            rows.extend(csv.DictReader(handle))
    bodies = []
    for i in range(count):
        row = rows[i % len(rows)]
        props: dict[str, list[str]] = {"name": [row["full_name"]]}
        if row.get("date_of_birth"):
            props["birthDate"] = [row["date_of_birth"]]
        if row.get("nationality"):
            props["nationality"] = [row["nationality"]]
        body = {"queries": {f"q{i}": {"schema": "Person", "properties": props}}}
        bodies.append(json.dumps(body).encode("utf-8"))
    return bodies


def _wait(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/algorithms")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--entries", type=int, default=0, help="extra generated list entries")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--dataset", default="default")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tipaudit-match-bench-") as tmp:
        folder = Path(tmp)
        settings = Settings(data_dir=folder / "data")
        services = build_services(settings)
        services.watchlists.import_list(
            "system:bench", "un-sc-sample", DATA / "un-sc-sample.csv", "csv", kind="sample"
        )
        services.watchlists.import_list(
            "system:bench", "fictional-demo", DATA / "fictional-demo-list.csv", "csv", kind="sample"
        )
        if args.entries:
            listed, _vocab = generate_list(args.entries)
            write_list(listed, folder / "generated.csv")
            services.watchlists.import_list(
                "system:bench", "generated", folder / "generated.csv", "csv", kind="sample"
            )
        user = services.accounts.create_user(
            "bench", "a long enough passphrase", roles={Role.VETTING_OFFICER}
        )
        _, token = services.accounts.create_token(user, "match bench")
        services.close()
        env = {**os.environ, "TIPAUDIT_DATA_DIR": str(folder / "data")}
        server = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "tipaudit"), "serve", "--port", str(args.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,  # it logs every request: a full pipe would block it
        )
        try:
            _wait(args.port)
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            connection = http.client.HTTPConnection("127.0.0.1", args.port, timeout=600)
            url = f"/match/{args.dataset}"
            started = time.perf_counter()
            connection.request("POST", url, body=_bodies(1)[0], headers=headers)
            first = connection.getresponse()
            first.read()
            warm = time.perf_counter() - started
            if first.status != 200:
                raise SystemExit(f"warm-up request failed: {first.status}")
            bodies = _bodies(args.requests)
            for body in bodies[:50]:
                connection.request("POST", url, body=body, headers=headers)
                connection.getresponse().read()
            latencies = []
            matches = 0
            started = time.perf_counter()
            for body in bodies:
                t0 = time.perf_counter()
                connection.request("POST", url, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                latencies.append(time.perf_counter() - t0)
                if response.status != 200:
                    raise SystemExit(f"request failed: {response.status} {payload[:200]!r}")
                answer = json.loads(payload)["responses"]
                matches += sum(1 for r in next(iter(answer.values()))["results"] if r["match"])
            total = time.perf_counter() - started
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    latencies.sort()
    ms = [x * 1000 for x in latencies]
    print(
        f"- `/match/{args.dataset}`, {args.requests} sequential single-query requests, one client, "
        f"one uvicorn worker: {args.requests / total:.0f} requests/s; latency median "
        f"{statistics.median(ms):.1f} ms, p95 {ms[int(len(ms) * 0.95) - 1]:.1f} ms, p99 "
        f"{ms[int(len(ms) * 0.99) - 1]:.1f} ms, max {ms[-1]:.1f} ms; first request (index build "
        f"and warm-up) {warm:.1f} s; {matches} results flagged as matches"
    )


if __name__ == "__main__":
    main()
