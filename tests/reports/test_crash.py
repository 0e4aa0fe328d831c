"""Crash test: kill the server hard in the middle of submissions; nothing acknowledged is lost.

A real ``tipaudit serve --intake-only`` runs in a subprocess; reporter threads submit reports;
the server is killed with SIGKILL while they do; it is started again on the same data. Every
receipt the server had answered with must then open its report (present and decryptable with
the receipt), and ``tipaudit audit verify`` must pass. Runs on SQLite and, with
``TIPAUDIT_TEST_DATABASE_URL``, on PostgreSQL.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import ModuleType

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def _load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("intake_load", ROOT / "bench" / "intake_load.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["intake_load"] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


def test_acknowledged_reports_survive_sigkill(tmp_path: Path, database_url: str) -> None:
    """SIGKILL mid-submissions, restart: every receipt opens its report; the audit chain holds."""
    env = bench.server_env(tmp_path / "data", database_url)
    bench.prepare(env)
    port = bench.free_port()
    server = bench.start_server(env, port)
    base = f"http://127.0.0.1:{port}"
    results = bench.Results()
    stop = threading.Event()
    threads = [
        threading.Thread(target=bench.reporter, args=(base, stop, results, i), daemon=True)
        for i in range(8)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 20
    while len(results.receipts) < 12 and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(server.pid, signal.SIGKILL)  # mid-flight: threads are still submitting
    server.wait(timeout=10)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    acknowledged = list(results.receipts)
    assert len(acknowledged) >= 12, results.errors[:5]
    assert results.errors, "the kill should have cut some submissions short"

    restarted = bench.start_server(env, port)
    try:
        with requests.Session() as session:
            after = bench.submit_one(session, base, 999_999)
    finally:
        os.killpg(restarted.pid, signal.SIGTERM)
        restarted.wait(timeout=30)

    opened, problems = bench.verify(env, [*acknowledged, after])
    assert [] == problems
    assert len(acknowledged) + 1 == opened
    audit = subprocess.run(
        [str(bench.TIPAUDIT), "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert 0 == audit.returncode, audit.stdout + audit.stderr
    print(
        f"crash test: {len(acknowledged)} acknowledged before SIGKILL, "
        f"{len(results.errors)} requests failed after the kill, {opened} opened after restart, "
        f"audit: {audit.stdout.strip().splitlines()[-1] if audit.stdout.strip() else 'ok'}"
    )


@pytest.fixture(autouse=True)
def _skip_without_server_binary() -> None:
    if not bench.TIPAUDIT.exists():
        pytest.skip("the tipaudit command is not installed in .venv")
