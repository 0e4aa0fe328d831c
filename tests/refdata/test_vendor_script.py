"""scripts/vendor_refdata.py: deterministic, up to date with ../shared, fails on unknown names."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import shared_path
from tipaudit.refdata.registry import BUNDLED_FOLDER

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "vendor_refdata.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("vendor_refdata", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("vendor_refdata", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.shared
def test_vendored_files_are_what_the_script_makes(script: ModuleType) -> None:
    """Re-running the script on ../shared reproduces the committed files byte for byte."""
    files = script.build(shared_path("data"), BUNDLED_FOLDER, "1970-01-01")
    committed = {
        p.relative_to(BUNDLED_FOLDER).as_posix(): p.read_bytes()
        for p in BUNDLED_FOLDER.rglob("*")
        if p.is_file()
    }
    assert sorted(committed) == sorted(files)
    assert [] == [path for path, content in files.items() if committed[path] != content]


@pytest.mark.shared
def test_output_is_deterministic(script: ModuleType, tmp_path: Path) -> None:
    """Two runs into an empty folder give identical bytes, dated with the run's date."""
    shared = shared_path("data")
    first = script.build(shared, tmp_path / "a", "2030-01-02")
    second = script.build(shared, tmp_path / "b", "2030-01-02")
    assert first == second
    manifest = json.loads(first["manifest.json"])
    assert {("2030-01-02", "2030-01-02")} == {
        (d["retrieved"], d["converted"]) for d in manifest["datasets"]
    }
    assert 8 == len(manifest["datasets"])


@pytest.mark.shared
def test_unresolved_country_names_fail_the_script(
    script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A country name that does not resolve stops the script, naming it; nothing is written."""
    shared = tmp_path / "shared"
    for folder in ("ilab-goods", "global-slavery-index", "tip-tiers", "ocds/schema-1.1"):
        shutil.copytree(shared_path("data", folder), shared / folder, copy_function=shutil.copyfile)
    goods = shared / "ilab-goods" / "goods_2019.xml"
    goods.write_bytes(goods.read_bytes().replace(b">Burma<", b">Freedonia<", 1))
    out = tmp_path / "out"
    assert 1 == script.main(["--shared", str(shared), "--out", str(out)])
    assert "'Freedonia'" in capsys.readouterr().err
    assert not out.exists()


def test_missing_shared_folder_is_reported(
    script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without ../shared the script says where it looked and exits 2."""
    assert 2 == script.main(["--shared", str(tmp_path / "none"), "--check"])
    assert "no shared data folder" in capsys.readouterr().err
