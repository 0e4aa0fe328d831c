"""Saved screening speed: screen and store N names against the UN sample list, then read back.

Usage: .venv/bin/python bench/vetting_save.py [N]   (default 5000; SQLite in a temp folder)

Reports (after one warm-up pass): the time to screen N names without storing (the matching
core), with storing every flagged candidate and its explanation in one unit of work, a second
run where every pair is suppressed, and ``supplier_matches()`` over the stored rows. Queries are
the list's own names, every third one misspelt, with supplier refs, so most are flagged (a
worst case for storage).
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path

from sqlalchemy import select

from tipaudit.core.clock import utcnow
from tipaudit.core.roles import Role
from tipaudit.screening import Query, Scorer, screen
from tipaudit.services.container import build_services
from tipaudit.settings import Settings
from tipaudit.storage.vetting import EntityMatch, MatchDecision


def main(n: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="vetting-bench-"))
    services = build_services(
        Settings(data_dir=folder, secret_key="bench-secret-key-that-is-long-enough-0123456789")
    )
    data = Path(str(resources.files("tipaudit") / "screening" / "data"))
    services.watchlists.import_list("system:bench", "un", data / "un-sc-sample.csv", "csv")
    officer = services.accounts.create_user(
        "bench", "a long enough passphrase", roles={Role.VETTING_OFFICER}
    )
    entries = services.watchlists.entries("un")
    rng = random.Random(7)
    queries = []
    for i in range(n):
        name = entries[i % len(entries)].names[0]
        if i % 3 == 0 and len(name) > 6:
            j = rng.randrange(1, len(name) - 1)
            name = name[:j] + name[j + 1] + name[j] + name[j + 2 :]
        queries.append(Query(f"supplier:S{i}", "LegalEntity", (name,)))
    index = services.watchlists.index(["un"])
    for q in queries:  # warm the name-normalisation caches so that both timings are fair
        screen(index, q, Scorer(), limit=3)
    start = time.perf_counter()
    flagged = sum(m.match for q in queries for m in screen(index, q, Scorer(), limit=3))
    core = time.perf_counter() - start
    start = time.perf_counter()
    first = services.vetting.screen_and_save(officer, queries, ["un"])
    saved = time.perf_counter() - start
    # Reject every stored pair (as if a reviewer had), so that the second run suppresses all.
    with services.db.write() as session:
        rows = session.scalars(
            select(EntityMatch).where(EntityMatch.screening_id == first.screening_id)
        ).all()
        session.add_all(
            MatchDecision(
                match_id=r.id, query_ref=r.query_ref, list_slug=r.list_slug,
                entity_id=r.entity_id, entry_hash=r.entry_hash, decision="rejected",
                reason="bench", decided_by="bench", decided_at=utcnow(),
            )
            for r in rows
        )  # fmt: skip
    start = time.perf_counter()
    second = services.vetting.screen_and_save(officer, queries, ["un"])
    suppressed = time.perf_counter() - start
    start = time.perf_counter()
    counted = services.vetting.supplier_matches()
    read = time.perf_counter() - start
    print(f"{n} names against {len(entries)} entries; {flagged} flagged candidates")
    print(f"screening only:            {core:7.2f} s ({n / core:8.0f} names/s)")
    print(f"screen and save:           {saved:7.2f} s ({n / saved:8.0f} names/s), "
          f"{first.flagged} stored")  # fmt: skip
    print(f"again, all suppressed:     {suppressed:7.2f} s, {second.suppressed} suppressed")
    print(f"supplier_matches():        {read:7.2f} s, {len(counted)} counting")
    services.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
