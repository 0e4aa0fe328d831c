"""Fixtures for screening tests: reference data, the classifier, and a run helper."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tipaudit.procurement.classify import Classifier
from tipaudit.procurement.ingest import IngestOptions
from tipaudit.procurement.screening import ScreeningRun, screen
from tipaudit.refdata import ReferenceData
from tipaudit.settings import Settings

Screen = Callable[..., ScreeningRun]


@pytest.fixture(scope="session")
def refdata(tmp_path_factory: pytest.TempPathFactory) -> ReferenceData:
    return ReferenceData(Settings(data_dir=tmp_path_factory.mktemp("refdata")))


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    return Classifier.load()


@pytest.fixture
def run_screen(tmp_path: Path, refdata: ReferenceData, classifier: Classifier) -> Screen:
    """Screen some inputs into a fresh run folder."""
    counter = iter(range(1000))

    def run(*inputs: Path, engine: str = "duckdb", **options: Any) -> ScreeningRun:
        return screen(
            list(inputs),
            folder=tmp_path / f"run-{next(counter)}",
            refdata=refdata,
            classifier=classifier,
            engine=engine,
            options=IngestOptions(**options),
        )

    return run


def release(
    ocid: str,
    *,
    supplier_country: str,
    items: list[tuple[str, str]],
    method: str = "open",
    tenderers: int = 3,
    estimate: float = 100_000,
    awarded: float = 95_000,
    currency: str = "USD",
    buyer_country: str = "United States",
) -> dict[str, Any]:
    """A small, fictional OCDS release buying ``items`` (CPV code, description)."""
    its = [
        {"id": str(i), "description": d, "classification": {"scheme": "CPV", "id": c}}
        for i, (c, d) in enumerate(items, 1)
    ]
    return {
        "ocid": ocid,
        "id": f"{ocid}-1",
        "date": "2026-01-01T00:00:00Z",
        "tag": ["award"],
        "initiationType": "tender",
        "parties": [
            {
                "id": "b",
                "name": "Fictional Buyer",
                "roles": ["buyer"],
                "address": {"countryName": buyer_country},
            },
            {
                "id": "s",
                "name": f"Fictional Supplier of {ocid}",
                "roles": ["supplier"],
                "address": {"countryName": supplier_country},
            },
        ],
        "buyer": {"id": "b", "name": "Fictional Buyer"},
        "tender": {
            "id": "t",
            "title": items[0][1],
            "procurementMethod": method,
            "numberOfTenderers": tenderers,
            "value": {"amount": estimate, "currency": currency},
            "items": its,
        },
        "awards": [
            {
                "id": "a",
                "value": {"amount": awarded, "currency": currency},
                "suppliers": [{"id": "s", "name": f"Fictional Supplier of {ocid}"}],
            }
        ],
    }


def write_package(path: Path, releases: list[dict[str, Any]]) -> Path:
    package = {
        "uri": "https://example.invalid/p.json",
        "version": "1.1",
        "publishedDate": "2026-01-01T00:00:00Z",
        "publisher": {"name": "tipaudit tests (fictional)"},
        "releases": releases,
    }
    path.write_text(json.dumps(package), encoding="utf-8")
    return path
