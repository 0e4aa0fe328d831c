"""Country risk profiles and pre-departure content."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tipaudit.errors import NotFoundError, ValidationError
from tipaudit.refdata import ReferenceData, predeparture
from tipaudit.refdata.predeparture import Contact, available_languages, load_content, page_context
from tipaudit.refdata.profiles import build_profile, profile_to_dict
from tipaudit.settings import Settings


@pytest.fixture(scope="module")
def refdata(tmp_path_factory: pytest.TempPathFactory) -> ReferenceData:
    return ReferenceData(Settings(data_dir=tmp_path_factory.mktemp("data")))


def test_turkiye_profile_has_goods_gsi_and_tiers(refdata: ReferenceData) -> None:
    """TR: the ILAB goods for Türkiye, its GSI figures and its tier history, each with source."""
    profile = build_profile(refdata, "TR")
    assert "TUR" == profile.country.alpha3
    goods = {g.good for g in profile.goods}
    assert {"Cotton", "Garments", "Hazelnuts"} <= goods
    assert "2022" == profile.goods_source.edition
    assert profile.gsi is not None
    assert 15.6 == round(profile.gsi.prevalence_per_1000 or 0, 1)
    assert "Walk Free" in profile.gsi_source.citation
    years = [t.report_year for t in profile.tiers if t.tier is not None]
    assert (2001, 2015) == (min(years), max(years))


@pytest.mark.parametrize(
    "name",
    ["Côte d'Ivoire", "Cote d'Ivoire", "CI", "CIV", "Кот-д\u2019Ивуар", "Costa de Marfil"],  # noqa: RUF001 - Cyrillic on purpose
)
def test_profile_resolves_names_in_any_form(refdata: ReferenceData, name: str) -> None:
    """A profile is found from names in any language or code."""
    assert "CIV" == build_profile(refdata, name).country.alpha3


def test_unknown_and_ambiguous_names_are_refused_with_reason(refdata: ReferenceData) -> None:
    """Nothing is guessed: an ambiguous or unknown name is an error saying why."""
    with pytest.raises(NotFoundError, match="ambiguous"):
        build_profile(refdata, "Congo")
    with pytest.raises(NotFoundError, match="unknown"):
        build_profile(refdata, "Atlantis")


def test_missing_data_is_said_plainly(refdata: ReferenceData) -> None:
    """A country without goods or an estimate gets sentences, not blanks or zeros."""
    profile = build_profile(refdata, "Iceland")
    assert () == profile.goods
    text = " ".join(profile.gaps)
    assert "names no goods from Iceland" in text
    assert "no prevalence estimate" in text
    data = profile_to_dict(profile)
    assert data["global_slavery_index"]["prevalence_per_1000"] is None  # type: ignore[index]


def test_every_language_file_matches_english() -> None:
    """Every translation has the same keys and placeholders, and cites known indicators."""
    assert ("en", "es") == available_languages()[:2]
    for language in available_languages():
        assert language == load_content(language)["language"]


def test_a_translation_with_missing_keys_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A language file that drops a key or a placeholder is refused when loaded."""
    folder = tmp_path / "predeparture"
    folder.mkdir()
    source = Path(predeparture.__file__).parent / "predeparture"
    english = (source / "en.yaml").read_text(encoding="utf-8")
    (folder / "en.yaml").write_text(english, encoding="utf-8")
    broken = yaml.safe_load(english)
    broken["language"] = "fr"
    broken["title"] = "Travailler : vos droits"  # lost {country}
    (folder / "fr.yaml").write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
    del broken["signs"]
    (folder / "de.yaml").write_text(yaml.safe_dump(broken, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(predeparture, "_folder", lambda: folder)
    predeparture.load_content.cache_clear()
    try:
        with pytest.raises(ValidationError, match="placeholders of 'title'"):
            load_content("fr")
        with pytest.raises(ValidationError, match="keys differ"):
            load_content("de")
        with pytest.raises(NotFoundError):
            load_content("../en")
    finally:
        predeparture.load_content.cache_clear()


def test_page_context_fills_facts_in_each_language(refdata: ReferenceData) -> None:
    """The pre-departure facts name the country, its goods and its tier in the reader's language."""
    profile = build_profile(refdata, "Malaysia")
    contacts = [Contact(kind="embassy", name="Embassy in Kuala Lumpur", phone="+60 3 0000 0000")]
    english = page_context(profile, "en", contacts)
    spanish = page_context(profile, "es", contacts)
    assert "Going to work in Malaysia: your rights and how to stay safe" == english["title"]
    assert "Malasia" == spanish["country_name"]
    assert any("Rubber Gloves" in fact and "forced labour" in fact for fact in english["facts"])
    assert any("6,3 de cada 1.000" in fact for fact in spanish["facts"])
    assert any("Lista de Vigilancia del Nivel 2" in fact for fact in spanish["facts"])
    assert contacts == english["contacts"]
