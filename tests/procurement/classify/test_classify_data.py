"""The crosswalk and keyword files and the vendored vocabularies: validation and provenance."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import shared_path
from tipaudit.procurement.classify import Classifier, CrosswalkDataError, bundled_ilab_goods
from tipaudit.procurement.classify.data import PACKAGE_FOLDER, code_prefix
from tipaudit.procurement.classify.vocabularies import DATA_FOLDER, load_cpv, load_unspsc

ROOT = Path(__file__).resolve().parents[3]
LANGUAGES = {"en", "es", "fr", "ro", "uk", "ru", "zh", "hy-Latn", "hy"}


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A copy of ``crosswalk/`` and ``keywords/`` to break."""
    for name in ("crosswalk", "keywords"):
        shutil.copytree(PACKAGE_FOLDER / name, tmp_path / name)
    return tmp_path


def load_error(folder: Path) -> str:
    with pytest.raises(CrosswalkDataError) as caught:
        Classifier.load(folder=folder)
    return str(caught.value)


def test_every_language_of_the_samples_has_a_keyword_file() -> None:
    """Keyword files exist for English, Spanish, French, Romanian, Ukrainian, Russian, Chinese
    and Armenian in Latin and Armenian script."""
    files = {f.language for f in Classifier.load().keyword_files}
    assert LANGUAGES == files


def test_every_good_name_is_spelled_as_in_the_2022_list() -> None:
    """Every ILAB good in the data is a good name of the bundled 2022 List of Goods."""
    classifier = Classifier.load()
    used = {g for e in classifier.code_entries for g in e.goods} | {
        g for f in classifier.keyword_files for e in f.entries for g in e.goods
    }
    assert set() == used - bundled_ilab_goods()


def test_every_entry_says_why() -> None:
    """Every crosswalk entry, keyword entry and negative carries a non-empty ``why``."""
    classifier = Classifier.load()
    whys = [e.why for e in classifier.code_entries] + [
        item.why for f in classifier.keyword_files for item in (*f.entries, *f.negatives)
    ]
    assert [] == [w for w in whys if not w.strip()]


def test_unknown_good_names_file_and_entry(data_copy: Path) -> None:
    """A misspelt ILAB good fails loading, naming the file, the entry and a suggestion."""
    path = data_copy / "crosswalk" / "cpv.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("goods: [Garments]", "goods: [Garment]", 1),
        encoding="utf-8",
    )
    message = load_error(data_copy)
    assert (True, True) == (
        "crosswalk/cpv.yaml entry" in message and "(code 18100000)" in message,
        "unknown ILAB good 'Garment'" in message,
    )


def test_unknown_good_in_a_keyword_file(data_copy: Path) -> None:
    """A keyword entry with an unknown good names the keyword file and the entry's first term."""
    path = data_copy / "keywords" / "es.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("goods: [Cotton]", "goods: [Algodon]", 1),
        encoding="utf-8",
    )
    message = load_error(data_copy)
    assert (True, True) == (
        message.startswith("keywords/es.yaml: entries entry"),
        "unknown ILAB good 'Algodon'" in message,
    )


def test_bad_yaml_names_the_file(data_copy: Path) -> None:
    """A file that is not YAML fails loading with the file's name."""
    (data_copy / "keywords" / "fr.yaml").write_text("entries: [unclosed\n", encoding="utf-8")
    assert load_error(data_copy).startswith("keywords/fr.yaml: not valid YAML")


def test_duplicate_prefix_is_refused(data_copy: Path) -> None:
    """Two entries for the same code prefix fail loading and name both."""
    path = data_copy / "crosswalk" / "unspsc.yaml"
    path.write_text(
        path.read_text(encoding="utf-8")
        + '  - code: "53100000"\n    industries: [none]\n    why: "again"\n',
        encoding="utf-8",
    )
    message = load_error(data_copy)
    assert (True, True) == (
        message.startswith("crosswalk/unspsc.yaml"),
        "duplicate prefix '5310'" in message,
    )


def test_wrong_title_reveals_a_wrong_code(data_copy: Path) -> None:
    """A title that differs from the vendored CPV label fails loading (a mistyped code)."""
    path = data_copy / "crosswalk" / "cpv.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            'title: "Occupational clothing, special workwear and accessories"',
            'title: "Footwear"',
        ),
        encoding="utf-8",
    )
    assert "differs from the vocabulary's" in load_error(data_copy)


def test_unknown_industry_and_missing_why(data_copy: Path) -> None:
    """An industry outside the vocabulary, or an entry without ``why``, fails loading."""
    other = data_copy / "crosswalk" / "other.yaml"
    text = other.read_text(encoding="utf-8")
    other.write_text(text.replace("industries: [logistics]", "industries: [transport]", 1))
    unknown = load_error(data_copy)
    other.write_text(text.replace('why: "security"', "", 1), encoding="utf-8")
    missing = load_error(data_copy)
    assert (True, True) == (
        "unknown industry 'transport'" in unknown,
        "needs a short 'why'" in missing,
    )


def test_duplicate_keyword_term_is_refused(data_copy: Path) -> None:
    """The same term twice in one keyword file (after normalisation) fails loading."""
    path = data_copy / "keywords" / "en.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("[glove, gloves]", "[glove, gloves, GLOVES]"),
        encoding="utf-8",
    )
    assert "duplicate term 'GLOVES'" in load_error(data_copy)


def test_tampered_vocabulary_is_refused(tmp_path: Path) -> None:
    """A vendored vocabulary whose SHA-256 differs from ``sources.json`` is not read."""
    shutil.copytree(DATA_FOLDER, tmp_path / "data")
    (tmp_path / "data" / "unspsc-ungm.json.gz").write_bytes(b"tampered")
    with pytest.raises(CrosswalkDataError) as caught:
        load_unspsc(tmp_path / "data")
    assert "SHA-256 does not match" in str(caught.value)


def test_code_prefixes_follow_each_scheme_hierarchy() -> None:
    """CPV drops trailing zeros (division at least), UNSPSC trailing zero pairs, others nothing."""
    assert ["18", "181", "0334", "53", "5310", "531015", "1412", "N8405"] == [
        code_prefix("CPV", "18000000"),
        code_prefix("CPV", "18100000"),
        code_prefix("CPV", "03340000"),
        code_prefix("UNSPSC", "53000000"),
        code_prefix("UNSPSC", "53100000"),
        code_prefix("UNSPSC", "53101500"),
        code_prefix("CPA", "14.12"),
        code_prefix("GSIN", "n8405"),
    ]


def test_vendored_files_match_sources_json() -> None:
    """Every vendored file's SHA-256 and size are recorded, with each source's provenance."""
    manifest = json.loads((DATA_FOLDER / "sources.json").read_text(encoding="utf-8"))
    recorded = {f["path"]: (f["sha256"], f["bytes"]) for f in manifest["files"]}
    actual = {
        path: (hashlib.sha256((DATA_FOLDER / path).read_bytes()).hexdigest(), size)
        for path, (_sha, size) in recorded.items()
    }
    fields = {key for source in manifest["sources"] for key in source}
    assert (recorded, {"commit", "file", "licence", "path", "repository", "sha256"}) == (
        actual,
        fields,
    )


def test_vendored_vocabularies_are_complete_and_compact() -> None:
    """All 9,454 CPV 2008 codes in six languages and UNGM's UNSPSC classes, under 3 MB."""
    cpv = load_cpv()
    total = sum(p.stat().st_size for p in DATA_FOLDER.iterdir())
    assert (9454, ("en", "es", "fr", "ro", "uk", "ru"), True, True) == (
        len(cpv.labels),
        cpv.languages,
        len(load_unspsc().titles) > 2600,
        total < 3_000_000,
    )


@pytest.mark.shared
def test_vendoring_script_reproduces_the_files() -> None:
    """``scripts/vendor_classifications.py --check`` finds the vendored files up to date."""
    shared = shared_path("data", "classifications")
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "vendor_classifications.py"),
            "--check",
            "--shared",
            str(shared),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (0, "") == (result.returncode, result.stdout)
