"""The DuckDB engine runs within a memory limit and spills to the run's folder beyond it."""

from __future__ import annotations

from pathlib import Path

from tipaudit.procurement.engine import open_engine


def test_duckdb_engine_has_a_memory_limit_and_a_spill_folder(tmp_path: Path) -> None:
    with open_engine("duckdb", workdir=tmp_path) as engine:
        con = engine.backend.con
        limit = con.execute("SELECT current_setting('memory_limit')").fetchone()
        spill = con.execute("SELECT current_setting('temp_directory')").fetchone()
    assert limit is not None
    assert spill is not None
    # DuckDB reports the limit in its own units (1GB is shown as 953.6 MiB).
    assert "MiB" in limit[0] or "GiB" in limit[0]
    assert float(limit[0].split()[0]) < 1024
    assert Path(spill[0]) == tmp_path / "duckdb-spill"
    assert (tmp_path / "duckdb-spill").is_dir()
