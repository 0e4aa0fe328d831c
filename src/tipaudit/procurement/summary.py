"""Aggregates of a screening run for charts: risk by sector, country, buyer and year."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from tipaudit.core.countries import get_country
from tipaudit.errors import NotFoundError
from tipaudit.procurement.rules import FACTORS, INDUSTRY_NAMES
from tipaudit.procurement.screening import ScreeningRun


@dataclass(frozen=True)
class RunSummary:
    levels: dict[str, int]
    by_industry: list[tuple[str, int]]
    by_country: list[tuple[str, int]]
    by_buyer: list[tuple[str, int]]
    by_year: list[tuple[str, int, int, int]]
    by_factor: list[tuple[str, int]]
    top_suppliers: list[dict[str, Any]]


def _name(code: str | None) -> str:
    if not code:
        return "unknown"
    try:
        return get_country(code).name
    except NotFoundError:
        return code


def summarise(run: ScreeningRun, *, top: int = 12) -> RunSummary:
    """Counts of processes rated medium or high, by what they bought, where and who."""
    files = {
        "register": str(run.result("register")),
        "factors": str(run.result("factors")),
        "suppliers": str(run.result("suppliers")),
        "items": str(run.folder / "tables" / "items" / "*.parquet"),
        "supplier_rows": str(run.folder / "tables" / "suppliers" / "*.parquet"),
    }
    # The SQL below is built only from constants and an integer; values are bound parameters.
    con = duckdb.connect()
    try:
        risky = "select ocid from read_parquet($register) where level in ('high', 'medium')"
        levels = dict(
            con.execute(
                "select level, count(*) from read_parquet($register) group by level",
                {"register": files["register"]},
            ).fetchall()
        )
        by_industry = con.execute(
            f"""select industry, count(distinct i.ocid) n
                from (select ocid, unnest(industries) industry from read_parquet($items)) i
                where i.ocid in ({risky})
                group by industry order by n desc, industry limit {top}""",
            {"items": files["items"], "register": files["register"]},
        ).fetchall()
        by_country = con.execute(
            f"""select country, count(distinct ocid) n from read_parquet($supplier_rows)
                where ocid in ({risky}) group by country order by n desc, country nulls last
                limit {top}""",
            {"supplier_rows": files["supplier_rows"], "register": files["register"]},
        ).fetchall()
        by_buyer = con.execute(
            f"""select coalesce(buyer_name, 'unknown') b, count(*) n from read_parquet($register)
                where ocid in ({risky}) group by b order by n desc, b limit {top}""",
            {"register": files["register"]},
        ).fetchall()
        by_year = con.execute(
            """select coalesce(substr(date, 1, 4), 'undated') y,
                      count(*) filter (where level = 'high'),
                      count(*) filter (where level = 'medium'),
                      count(*) filter (where level = 'low')
               from read_parquet($register) group by y order by y""",
            {"register": files["register"]},
        ).fetchall()
        by_factor = con.execute(
            """select factor, count(distinct ocid) n from read_parquet($factors)
               group by factor order by n desc, factor""",
            {"factors": files["factors"]},
        ).fetchall()
        suppliers = con.execute(
            f"""select supplier_key, name, country, processes, high, medium, level,
                       supplier_factors, goods_listed
                from read_parquet($suppliers) where level in ('high', 'medium')
                order by high desc, medium desc, max_score desc, supplier_key limit {top}""",
            {"suppliers": files["suppliers"]},
        ).fetchall()
    finally:
        con.close()
    columns = (
        "supplier_key",
        "name",
        "country",
        "processes",
        "high",
        "medium",
        "level",
        "supplier_factors",
        "goods_listed",
    )
    return RunSummary(
        levels={"high": 0, "medium": 0, "low": 0, **levels},
        by_industry=[(INDUSTRY_NAMES.get(k, k), n) for k, n in by_industry],
        by_country=[(_name(k), n) for k, n in by_country],
        by_buyer=[(str(k), n) for k, n in by_buyer],
        by_year=[(str(y), h, m, low) for y, h, m, low in by_year],
        by_factor=[(FACTORS[k].title, n) for k, n in by_factor],
        top_suppliers=[dict(zip(columns, row, strict=True)) for row in suppliers],
    )
