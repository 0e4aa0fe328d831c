"""The risk register as people read it: reasons, actions and uncertainties in words.

:func:`register_rows` streams the register of a run, highest risk first, each row carrying its
reasons (one sentence per factor), the indicator codes they bear on, the actions its level
requires and what could not be judged. :func:`write_register` writes it as CSV, JSON, Parquet
or XLSX, chosen by the file extension.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from tipaudit.core.countries import get_country
from tipaudit.errors import NotFoundError, ValidationError
from tipaudit.procurement.rules import (
    FACTORS,
    UNCERTAINTIES,
    actions_for,
    explain,
    indicator_codes,
)
from tipaudit.procurement.screening import ScreeningRun

FORMATS = (".csv", ".json", ".parquet", ".xlsx")
COLUMNS = (
    "rank",
    "ocid",
    "level",
    "score",
    "title",
    "buyer",
    "buyer_country",
    "suppliers",
    "supplier_countries",
    "value",
    "currency",
    "reasons",
    "factors",
    "indicator_codes",
    "actions",
    "uncertainties",
    "source_file",
)
LIST_SEPARATOR = " | "

_QUERY = """
with f as (
    select ocid, list(struct_pack(factor, supplier_key, good, country, industry, detail,
                                  number, number2, text)
                      order by factor, supplier_key, good, country, industry) as factors
    from read_parquet($factors) group by ocid
), u as (
    select ocid, list(uncertainty order by uncertainty) as uncertainties
    from read_parquet($uncertainties) group by ocid
), s as (
    select ocid, list(distinct name order by name) as suppliers,
           list(distinct country order by country) filter (where country is not null) as countries
    from read_parquet($suppliers) group by ocid
)
select r.*, f.factors, u.uncertainties, s.suppliers, s.countries
from read_parquet($register) r
left join f using (ocid) left join u using (ocid) left join s using (ocid)
{where}
order by r.score desc, r.ocid
{limit}
"""


def _country_name(code: str | None, cache: dict[str, str]) -> str:
    if not code:
        return ""
    if code not in cache:
        try:
            cache[code] = get_country(code).name
        except NotFoundError:
            cache[code] = code
    return cache[code]


def register_rows(
    run: ScreeningRun,
    *,
    level: str | None = None,
    ocid: str | None = None,
    limit: int | None = None,
    batch_size: int = 2_000,
) -> Iterator[dict[str, Any]]:
    """The register of ``run`` as readable rows, highest score first."""
    conditions: list[str] = []
    params: dict[str, Any] = {
        "register": str(run.result("register")),
        "factors": str(run.result("factors")),
        "uncertainties": str(run.result("uncertainties")),
        "suppliers": str(run.folder / "tables" / "suppliers" / "*.parquet"),
    }
    if level is not None:
        conditions.append("r.level = $level")
        params["level"] = level
    if ocid is not None:
        conditions.append("r.ocid = $ocid")
        params["ocid"] = ocid
    where = ("where " + " and ".join(conditions)) if conditions else ""
    query = _QUERY.format(where=where, limit=f"limit {int(limit)}" if limit is not None else "")
    names: dict[str, str] = {}
    connection = duckdb.connect()
    try:
        cursor = connection.execute(query, params)
        columns = [d[0] for d in cursor.description]
        rank = 0
        while batch := cursor.fetchmany(batch_size):
            for values in batch:
                row = dict(zip(columns, values, strict=True))
                rank += 1
                yield _readable(row, rank, names)
    finally:
        connection.close()


def _readable(row: dict[str, Any], rank: int, names: dict[str, str]) -> dict[str, Any]:
    factors = row.get("factors") or []
    for factor in factors:
        if factor.get("country"):
            _country_name(factor["country"], names)
    reasons = [explain(f, names) for f in factors]
    codes = sorted({f["factor"] for f in factors})
    uncertainty_codes = row.get("uncertainties") or []
    return {
        "rank": rank,
        "ocid": row["ocid"],
        "level": row["level"],
        "score": row["score"],
        "title": row.get("title"),
        "buyer": row.get("buyer_name"),
        "buyer_country": row.get("buyer_country"),
        "suppliers": row.get("suppliers") or [],
        "supplier_countries": row.get("countries") or [],
        "value": row.get("value"),
        "currency": row.get("currency"),
        "reasons": reasons,
        "factors": codes,
        "factor_titles": [FACTORS[c].title for c in codes],
        "factor_rows": factors,
        "indicator_codes": indicator_codes(factors),
        "actions": actions_for(row["level"], codes),
        "uncertainties": [UNCERTAINTIES[c] for c in uncertainty_codes],
        "source_file": row.get("source_file"),
    }


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for column in COLUMNS:
        value = row.get(column)
        flat[column] = (
            LIST_SEPARATOR.join(str(v) for v in value) if isinstance(value, list) else value
        )
    return flat


def write_register(run: ScreeningRun, out: Path) -> int:
    """Write the register to ``out`` (format from the extension); returns the number of rows."""
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise ValidationError(
            f"cannot write {out.name}: choose a file ending in {', '.join(FORMATS)}"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = register_rows(run)
    count = 0
    if suffix == ".csv":
        with out.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _excel(v) for k, v in _flat(row).items()})
                count += 1
    elif suffix == ".json":
        with out.open("w", encoding="utf-8") as handle:
            handle.write("[\n")
            for row in rows:
                data = {k: row[k] for k in COLUMNS}
                handle.write(("," if count else "") + json.dumps(data, ensure_ascii=False) + "\n")
                count += 1
            handle.write("]\n")
    elif suffix == ".parquet":
        schema = pa.schema(
            [
                (c, pa.list_(pa.string()))
                if c
                in {
                    "suppliers",
                    "supplier_countries",
                    "reasons",
                    "factors",
                    "indicator_codes",
                    "actions",
                    "uncertainties",
                }
                else (
                    c,
                    pa.float64()
                    if c == "value"
                    else pa.int64()
                    if c in {"rank", "score"}
                    else pa.string(),
                )
                for c in COLUMNS
            ]
        )
        with pq.ParquetWriter(str(out), schema) as writer:
            batch: list[dict[str, Any]] = []
            for row in rows:
                batch.append({c: row[c] for c in COLUMNS})
                count += 1
                if len(batch) >= 5_000:
                    writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                    batch.clear()
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet("Risk register")
        sheet.append(list(COLUMNS))
        for row in rows:
            sheet.append([_excel(v) for v in _flat(row).values()])
            count += 1
        book.save(str(out))
    return count


def _excel(value: Any) -> Any:
    # A cell starting with = + - @ would be a formula in a spreadsheet: store it as text.
    if isinstance(value, str):
        if value[:1] in {"=", "+", "-", "@"}:
            return "'" + value
        return value[:32_000]
    return value


def supplier_rows(
    run: ScreeningRun, *, level: str | None = None, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """Suppliers across all their processes in the run, most high-risk processes first."""
    where = "where level = $level" if level else ""
    params: dict[str, Any] = {"suppliers": str(run.result("suppliers"))}
    if level:
        params["level"] = level
    connection = duckdb.connect()
    try:
        cursor = connection.execute(
            f"""select supplier_key, name, country, processes, high, medium, level, max_score,
                       supplier_factors, goods_listed
                from read_parquet($suppliers) {where}
                order by high desc, medium desc, max_score desc, supplier_key
                limit {int(limit)} offset {int(offset)}""",  # noqa: S608 - integers only
            params,
        )
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    finally:
        connection.close()
