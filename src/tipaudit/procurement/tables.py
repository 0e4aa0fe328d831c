"""Tidy tables of contracting processes, written as Parquet parts as ingest goes.

Each compiled release becomes rows of eight tables with stable keys:

==============  =========================================================================
table           key
==============  =========================================================================
processes       ``ocid``
parties         ``ocid, party_id``
tenders         ``ocid`` (one tender per process in OCDS)
awards          ``ocid, award_id``
suppliers       ``ocid, award_id, supplier_key`` (the award's suppliers)
contracts       ``ocid, contract_id``
items           ``ocid, stage, parent_id, item_index`` (stage: tender, award or contract)
amendments      ``ocid, stage, parent_id, amendment_index``
==============  =========================================================================

**The supplier key** (also used for buyers and every party) identifies an organisation across
processes and publishers, and is what entity screening attaches to:

* ``{SCHEME}:{ID}`` when the party publishes ``identifier.scheme`` and ``identifier.id``: the
  scheme upper-cased (an org-id.guide prefix such as ``GB-COH``), the id with surrounding
  space removed and inner runs of space collapsed, otherwise as published;
* otherwise ``name:{normalised name}|{ISO alpha-3 or ??}``: the name lower-cased, accents and
  punctuation removed, spaces collapsed, and the resolved country of the party's address.

Rows are buffered and flushed to Parquet in parts, so memory stays bounded however many
processes are read; every engine then reads the same files.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from tipaudit.core.countries import country_from_org_id, resolve_country
from tipaudit.procurement.ingest.gctune import relaxed_gc

# -- schemas -------------------------------------------------------------------------------

S = pa.string()
F = pa.float64()
I = pa.int64()  # noqa: E741 - short names keep the schema table readable
B = pa.bool_()
LS = pa.list_(pa.string())

SCHEMAS: dict[str, pa.Schema] = {
    "processes": pa.schema(
        [
            ("ocid", S),
            ("release_id", S),
            ("date", S),
            ("title", S),
            ("description", S),
            ("buyer_key", S),
            ("buyer_name", S),
            ("buyer_country", S),
            ("main_category", S),
            ("procurement_method", S),
            ("procurement_method_details", S),
            ("number_of_tenderers", I),
            ("tender_value", F),
            ("tender_currency", S),
            ("award_value", F),
            ("award_currency", S),
            ("contract_value", F),
            ("contract_currency", S),
            ("has_subcontracting", B),
            ("subcontracting_share", F),
            ("amendment_count", I),
            ("item_count", I),
            ("releases_merged", I),
            ("from_record", B),
            ("source_file", S),
        ]
    ),
    "parties": pa.schema(
        [
            ("ocid", S),
            ("party_id", S),
            ("party_key", S),
            ("name", S),
            ("roles", LS),
            ("identifier_scheme", S),
            ("identifier_id", S),
            ("country_text", S),
            ("country", S),
            ("country_method", S),
        ]
    ),
    "tenders": pa.schema(
        [
            ("ocid", S),
            ("tender_id", S),
            ("title", S),
            ("status", S),
            ("procurement_method", S),
            ("main_category", S),
            ("value", F),
            ("currency", S),
            ("number_of_tenderers", I),
        ]
    ),
    "awards": pa.schema(
        [
            ("ocid", S),
            ("award_id", S),
            ("title", S),
            ("status", S),
            ("date", S),
            ("value", F),
            ("currency", S),
            ("has_subcontracting", B),
        ]
    ),
    "suppliers": pa.schema(
        [
            ("ocid", S),
            ("award_id", S),
            ("supplier_key", S),
            ("party_id", S),
            ("name", S),
            ("identifier_scheme", S),
            ("identifier_id", S),
            ("country", S),
            ("country_text", S),
        ]
    ),
    "contracts": pa.schema(
        [
            ("ocid", S),
            ("contract_id", S),
            ("award_id", S),
            ("title", S),
            ("status", S),
            ("date_signed", S),
            ("value", F),
            ("currency", S),
        ]
    ),
    "items": pa.schema(
        [
            ("ocid", S),
            ("stage", S),
            ("parent_id", S),
            ("item_index", I),
            ("item_id", S),
            ("description", S),
            ("scheme", S),
            ("code", S),
            ("quantity", F),
            ("unit", S),
            ("goods", LS),
            ("industries", LS),
            ("evidence", LS),
        ]
    ),
    "amendments": pa.schema(
        [
            ("ocid", S),
            ("stage", S),
            ("parent_id", S),
            ("amendment_index", I),
            ("date", S),
            ("rationale", S),
            ("description", S),
        ]
    ),
}
TABLES = tuple(SCHEMAS)


class ItemClassifier(Protocol):
    """What the tables need from the item classifier (see ``procurement.classify``)."""

    def classify_item(
        self,
        scheme: str | None,
        code: str | None,
        description: str | None,
        *,
        extra_text: str | None = None,
        classification_description: str | None = None,
        category: str | None = None,
    ) -> Any: ...


# -- small, forgiving readers ----------------------------------------------------------------

_NUMBER_RE = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")
_SPACE_RE = re.compile(r"\s+")
_NAME_DROP_RE = re.compile(r"[^\w\s]", re.UNICODE)


def text(value: Any, limit: int = 2000) -> str | None:
    """A string field, or None; OCDS 1.0 multilingual objects give their first value."""
    if type(value) is str:  # the usual case first: called dozens of times per release
        value = value.strip()
        return value[:limit] if value else None
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value[:limit] if value else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):
        for item in value.values():
            found = text(item, limit)
            if found:
                return found
    return None


def amount(value: Any) -> float | None:
    """A monetary amount: numbers as they are; strings such as "1,234.50" parsed; else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        cleaned = value.strip().replace(" ", "").replace("\u00a0", "")
        if cleaned.count(",") and cleaned.count("."):
            cleaned = cleaned.replace(",", "")
        elif cleaned.count(",") == 1 and len(cleaned.split(",")[1]) != 3:
            cleaned = cleaned.replace(",", ".")
        else:
            cleaned = cleaned.replace(",", "")
        if not _NUMBER_RE.match(cleaned):
            return None
        number = float(cleaned)
    else:
        return None
    return number if math.isfinite(number) else None


def integer(value: Any) -> int | None:
    number = amount(value)
    return int(number) if number is not None and number.is_integer() else None


def value_of(obj: Any) -> tuple[float | None, str | None]:
    if not isinstance(obj, dict):
        return None, None
    return amount(obj.get("amount")), text(obj.get("currency"), 10)


def _dicts(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):  # some publishers give a single object where a list belongs
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


@functools.lru_cache(maxsize=65_536)  # the same buyers and suppliers come back again and again
def normalise_name(name: str) -> str:
    folded = name.casefold()
    if folded.isascii():  # NFKD leaves ASCII as it is, and no ASCII character is combining
        stripped = folded
    else:
        decomposed = unicodedata.normalize("NFKD", folded)
        stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACE_RE.sub(" ", _NAME_DROP_RE.sub(" ", stripped)).strip()


def party_key(
    scheme: str | None, identifier: str | None, name: str | None, country: str | None
) -> str | None:
    """The stable key of an organisation (see the module documentation)."""
    if scheme and identifier:
        return f"{scheme.strip().upper()}:{_SPACE_RE.sub(' ', identifier.strip())}"
    if name:
        normalised = normalise_name(name)
        if normalised:
            return f"name:{normalised}|{country or '??'}"
    return None


@dataclass(frozen=True)
class PartyCountry:
    alpha3: str | None
    method: str


def party_country(party: Mapping[str, Any]) -> tuple[str | None, PartyCountry]:
    """The party's country: its address's ``countryName`` resolved, else its org-id prefix."""
    address = party.get("address")
    raw = text(address.get("countryName"), 200) if isinstance(address, dict) else None
    if raw is None and isinstance(address, dict):
        raw = text(address.get("country"), 200)  # OCDS 1.2-dev ISO code
    if raw:
        resolved = resolve_country(raw)
        if resolved.country is not None:
            return raw, PartyCountry(resolved.country.alpha3, "address")
    identifier = party.get("identifier")
    scheme = text(identifier.get("scheme"), 100) if isinstance(identifier, dict) else None
    if scheme:
        by_prefix = country_from_org_id(scheme)
        if by_prefix.country is not None:
            return raw, PartyCountry(by_prefix.country.alpha3, "identifier")
    return raw, PartyCountry(None, "unknown")


# -- the writer --------------------------------------------------------------------------------

_ROWS_PER_PART = 50_000
_LABEL_MEMO = 20_000
_SHARD_ROW_GROUP = 10_000


class TableWriter:
    """Buffers rows per table and writes them as numbered Parquet parts under ``folder``.

    Parts are named ``part-{prefix}{number:05d}.parquet``: several writers (one per shard of a
    run flattened in worker processes) give their parts prefixes that sort in output order.
    With ``one_file``, each table gets a single part and every ``rows_per_part`` rows become a
    row group of it (few files, and little buffered, for the writers of shards).
    """

    def __init__(
        self,
        folder: Path,
        *,
        rows_per_part: int = _ROWS_PER_PART,
        prefix: str = "",
        one_file: bool = False,
    ) -> None:
        self.folder = folder
        self.rows_per_part = rows_per_part
        self.prefix = prefix
        self._files: dict[str, pq.ParquetWriter] | None = {} if one_file else None
        # Rows are kept as the tuples they come in and turned into columns only when a part is
        # written: one append per row instead of one per cell.
        self._pending: dict[str, list[tuple[Any, ...]]] = {name: [] for name in SCHEMAS}
        self._parts: dict[str, int] = dict.fromkeys(SCHEMAS, 0)
        self._written: dict[str, int] = dict.fromkeys(SCHEMAS, 0)
        for name in SCHEMAS:
            (folder / name).mkdir(parents=True, exist_ok=True)

    @property
    def rows(self) -> dict[str, int]:
        """Rows added so far, per table."""
        return {name: self._written[name] + len(self._pending[name]) for name in SCHEMAS}

    def add(self, table: str, row: Iterable[Any]) -> None:
        pending = self._pending[table]
        pending.append(row if type(row) is tuple else tuple(row))
        if len(pending) >= self.rows_per_part:
            self._flush(table)

    def _flush(self, table: str) -> None:
        pending = self._pending[table]
        if not pending and self._parts[table] > 0:
            return
        schema = SCHEMAS[table]
        if set(map(len, pending)) - {len(schema)}:
            raise ValueError(f"a {table} row does not have the {len(schema)} columns of its table")
        columns = list(zip(*pending, strict=True)) if pending else [()] * len(schema)
        arrays = [
            pa.array(column, type=field.type) for column, field in zip(columns, schema, strict=True)
        ]
        batch = pa.Table.from_arrays(arrays, schema=schema)
        if self._files is None:
            path = self.folder / table / f"part-{self.prefix}{self._parts[table]:05d}.parquet"
            pq.write_table(batch, path, compression="zstd")
            self._parts[table] += 1
        else:
            file = self._files.get(table)
            if file is None:
                path = self.folder / table / f"part-{self.prefix}00000.parquet"
                file = self._files[table] = pq.ParquetWriter(path, schema, compression="zstd")
                self._parts[table] = 1
            file.write_table(batch)
        self._written[table] += len(pending)
        pending.clear()

    def close(self) -> None:
        for table in SCHEMAS:
            self._flush(table)
        self.discard()

    def discard(self) -> None:
        """Close the open files without writing what is still buffered (after a failure)."""
        files, self._files = self._files, None if self._files is None else {}
        for file in (files or {}).values():
            file.close()


# -- flattening -------------------------------------------------------------------------------

#: Standard OCDS fields of a compiled release that :class:`Flattener` never reads (in the
#: bundled samples, about half of the bytes of a release: documents above all, then contract
#: implementation, planning, periods, contact points and bids): ``None`` drops the field, a
#: mapping descends into the object, or each object of the array, found there. The ingest drops
#: them when it reads a release (see ``procurement.ingest.project``). A test flattens the real
#: samples and generated releases with and without dropping them and compares every row:
#: reading one of these fields here, without taking it off this list, fails that test.
FIELDS_NOT_READ: dict[str, Any] = {
    "planning": None,
    "bids": None,
    "tender": dict.fromkeys(("documents", "milestones")),
    "awards": dict.fromkeys(("documents",)),
    "contracts": dict.fromkeys(("documents", "implementation", "milestones")),
}


def _labels(result: Any) -> tuple[list[str], list[str], list[str]]:
    goods = [m.label for m in getattr(result, "goods", ())]
    industries = [m.label for m in getattr(result, "industries", ())]
    evidence = [
        m.evidence for m in (*getattr(result, "goods", ()), *getattr(result, "industries", ()))
    ]
    return goods, industries, evidence


class Flattener:
    """Turns compiled releases into table rows; one instance per screening run."""

    def __init__(self, writer: TableWriter, classifier: ItemClassifier) -> None:
        self.writer = writer
        self.classifier = classifier
        # The same items come back again and again (one tender's items in its award and its
        # contract; the same goods bought by many processes): their labels are looked up once.
        # The classifier is fixed for the run, so the same inputs give the same labels.
        self._labels: dict[tuple[Any, ...], tuple[list[str], list[str], list[str]]] = {}

    def add(  # noqa: PLR0912, PLR0915 - one pass over a release, kept together for speed
        self,
        release: Mapping[str, Any],
        *,
        releases_merged: int,
        from_record: bool,
        source_file: str | None,
    ) -> None:
        ocid = text(release.get("ocid"), 200)
        if ocid is None:
            return
        add = self.writer.add
        tender = release.get("tender") if isinstance(release.get("tender"), dict) else {}
        assert isinstance(tender, dict)
        title = text(tender.get("title"), 500)
        description = text(tender.get("description"), 2000)
        context = " ".join(t for t in (title, description) if t) or None

        parties: dict[str, tuple[str | None, str | None, str | None, str | None]] = {}
        buyer_key = buyer_name = buyer_country = None
        for party in _dicts(release.get("parties")):
            party_id = text(party.get("id"), 200)
            name = text(party.get("name"), 500)
            identifier = (
                party.get("identifier") if isinstance(party.get("identifier"), dict) else {}
            )
            assert isinstance(identifier, dict)
            scheme = text(identifier.get("scheme"), 100)
            ident = text(identifier.get("id"), 200)
            name = name or text(identifier.get("legalName"), 500)
            raw_country, country = party_country(party)
            key = party_key(scheme, ident, name, country.alpha3)
            roles = (
                [r for r in party.get("roles", []) if isinstance(r, str)]
                if isinstance(party.get("roles"), list)
                else []
            )
            add(
                "parties",
                (
                    ocid,
                    party_id,
                    key,
                    name,
                    roles,
                    scheme,
                    ident,
                    raw_country,
                    country.alpha3,
                    country.method,
                ),
            )
            if party_id:
                parties[party_id] = (key, name, country.alpha3, raw_country)
            if "buyer" in roles and buyer_key is None:
                buyer_key, buyer_name, buyer_country = key, name, country.alpha3
        buyer = release.get("buyer")
        if isinstance(buyer, dict):
            known = parties.get(text(buyer.get("id"), 200) or "")
            if known is not None:
                buyer_key, buyer_name, buyer_country, _ = known
            elif buyer_name is None:
                buyer_name = text(buyer.get("name"), 500)
                buyer_key = party_key(None, None, buyer_name, None)

        tender_value, tender_currency = value_of(tender.get("value"))
        tenderers = integer(tender.get("numberOfTenderers"))
        method = text(tender.get("procurementMethod"), 50)
        category = text(tender.get("mainProcurementCategory"), 50)
        if tender:
            add(
                "tenders",
                (
                    ocid,
                    text(tender.get("id"), 200),
                    title,
                    text(tender.get("status"), 50),
                    method,
                    category,
                    tender_value,
                    tender_currency,
                    tenderers,
                ),
            )

        item_count = 0
        amendment_count = 0
        labels_of = self._labels

        def items(stage: str, parent: str | None, values: Any) -> None:
            nonlocal item_count
            for index, item in enumerate(_dicts(values)):
                classification = item.get("classification")
                scheme = code = None
                if isinstance(classification, dict):
                    scheme = text(classification.get("scheme"), 200)
                    code = text(classification.get("id"), 100)
                    label = text(classification.get("description"), 500)
                else:
                    label = None
                described = text(item.get("description"), 2000)
                key = (scheme, code, described, context, label, category)
                found = labels_of.get(key)
                if found is None:
                    found = _labels(
                        self.classifier.classify_item(
                            scheme,
                            code,
                            described,
                            extra_text=context,
                            classification_description=label,
                            category=category,
                        )
                    )
                    if len(labels_of) >= _LABEL_MEMO:
                        labels_of.clear()
                    labels_of[key] = found
                goods, industries, evidence = found
                unit = item.get("unit")
                add(
                    "items",
                    (
                        ocid,
                        stage,
                        parent,
                        index,
                        text(item.get("id"), 200),
                        described or label,
                        scheme,
                        code,
                        amount(item.get("quantity")),
                        text(unit.get("name"), 100) if isinstance(unit, dict) else None,
                        goods,
                        industries,
                        evidence,
                    ),
                )
                item_count += 1

        def amendments(stage: str, parent: str | None, holder: Mapping[str, Any]) -> None:
            nonlocal amendment_count
            found = _dicts(holder.get("amendments"))
            if not found and isinstance(holder.get("amendment"), dict):  # OCDS 1.0
                found = [holder["amendment"]]
            for index, amendment in enumerate(found):
                add(
                    "amendments",
                    (
                        ocid,
                        stage,
                        parent,
                        index,
                        text(amendment.get("date"), 40),
                        text(amendment.get("rationale"), 2000),
                        text(amendment.get("description"), 2000),
                    ),
                )
                amendment_count += 1

        items("tender", None, tender.get("items"))
        amendments("tender", None, tender)

        award_total: float | None = None
        award_currency: str | None = None
        has_subcontracting: bool | None = None
        share: float | None = None
        for award in _dicts(release.get("awards")):
            award_id = text(award.get("id"), 200)
            value, currency = value_of(award.get("value"))
            if value is not None:
                award_total = (award_total or 0.0) + value
                award_currency = award_currency or currency
            flag = award.get("hasSubcontracting")
            sub = award.get("subcontracting")
            if isinstance(flag, bool):
                has_subcontracting = bool(has_subcontracting) or flag
            if isinstance(sub, dict):
                share = amount(sub.get("maximumPercentage")) or amount(sub.get("minimumPercentage"))
            add(
                "awards",
                (
                    ocid,
                    award_id,
                    text(award.get("title"), 500),
                    text(award.get("status"), 50),
                    text(award.get("date"), 40),
                    value,
                    currency,
                    flag if isinstance(flag, bool) else None,
                ),
            )
            for supplier in _dicts(award.get("suppliers")):
                ref = text(supplier.get("id"), 200)
                name = text(supplier.get("name"), 500)
                known = parties.get(ref or "")
                if known is not None:
                    key, party_name, alpha3, raw = known
                    identifier_scheme, identifier_id = _identifier_of(key)
                else:  # OCDS 1.0: suppliers carry their own identifier and address
                    identifier = (
                        supplier.get("identifier")
                        if isinstance(supplier.get("identifier"), dict)
                        else {}
                    )
                    assert isinstance(identifier, dict)
                    identifier_scheme = text(identifier.get("scheme"), 100)
                    identifier_id = text(identifier.get("id"), 200)
                    raw, country = party_country(supplier)
                    alpha3 = country.alpha3
                    party_name = name
                    key = party_key(identifier_scheme, identifier_id, name, alpha3)
                if key is None:
                    continue
                add(
                    "suppliers",
                    (
                        ocid,
                        award_id,
                        key,
                        ref,
                        name or party_name,
                        identifier_scheme,
                        identifier_id,
                        alpha3,
                        raw,
                    ),
                )
            items("award", award_id, award.get("items"))
            amendments("award", award_id, award)

        contract_total: float | None = None
        contract_currency: str | None = None
        for contract in _dicts(release.get("contracts")):
            contract_id = text(contract.get("id"), 200)
            value, currency = value_of(contract.get("value"))
            if value is not None:
                contract_total = (contract_total or 0.0) + value
                contract_currency = contract_currency or currency
            add(
                "contracts",
                (
                    ocid,
                    contract_id,
                    text(contract.get("awardID"), 200),
                    text(contract.get("title"), 500),
                    text(contract.get("status"), 50),
                    text(contract.get("dateSigned"), 40),
                    value,
                    currency,
                ),
            )
            items("contract", contract_id, contract.get("items"))
            amendments("contract", contract_id, contract)

        add(
            "processes",
            (
                ocid,
                text(release.get("id"), 200),
                text(release.get("date"), 40),
                title,
                description,
                buyer_key,
                buyer_name,
                buyer_country,
                category,
                method,
                text(tender.get("procurementMethodDetails"), 200),
                tenderers,
                tender_value,
                tender_currency,
                award_total,
                award_currency,
                contract_total,
                contract_currency,
                has_subcontracting,
                share,
                amendment_count,
                item_count,
                releases_merged,
                from_record,
                source_file,
            ),
        )


def _identifier_of(key: str | None) -> tuple[str | None, str | None]:
    if key is None or key.startswith("name:"):
        return None, None
    scheme, _, identifier = key.partition(":")
    return scheme, identifier


def write_tables(
    releases: Iterable[Any],
    folder: Path,
    classifier: ItemClassifier,
    *,
    on_process: Callable[[], None] | None = None,
) -> dict[str, int]:
    """Flatten ``CompiledRelease`` objects into Parquet tables under ``folder``; row counts.

    Given what ``iter_compiled`` returns (and no ``on_process``), the flattening runs where the
    ingest merges: in its worker processes for a large input, each writing the parts of its
    consecutive share of the output (the rows are the same, in the same order).
    """
    map_shards = getattr(releases, "map_shards", None)
    if map_shards is not None and on_process is None:
        counts: list[dict[str, int]] = map_shards(
            functools.partial(_write_shard, folder, classifier)
        )
        return {name: sum(count[name] for count in counts) for name in SCHEMAS}
    return _write_shard(folder, classifier, 0, 1, releases, on_process)


def _write_shard(
    folder: Path,
    classifier: ItemClassifier,
    shard: int,
    shards: int,
    releases: Iterable[Any],
    on_process: Callable[[], None] | None = None,
) -> dict[str, int]:
    if shards > 1:
        # Each worker writes one file per table, in row groups: all of them together hold
        # fewer rows in memory than one writer would (each worker also keeps its own caches).
        prefix = f"{shard:03d}-"
        writer = TableWriter(folder, rows_per_part=_SHARD_ROW_GROUP, prefix=prefix, one_file=True)
    else:
        writer = TableWriter(folder)
    flattener = Flattener(writer, classifier)
    try:
        with relaxed_gc():  # ingest and flattening allocate millions of short-lived objects
            for compiled in releases:
                flattener.add(
                    compiled.release,
                    releases_merged=compiled.releases_merged,
                    from_record=compiled.from_record,
                    source_file=compiled.sources[0] if compiled.sources else None,
                )
                if on_process is not None:
                    on_process()
            writer.close()
    except BaseException:
        writer.discard()
        raise
    return writer.rows
