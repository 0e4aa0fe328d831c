"""The item classifier: schemes, codes, keywords per language, negatives, fallbacks, evidence."""

from __future__ import annotations

import pytest

from tipaudit.procurement.classify import (
    INDUSTRIES,
    Classifier,
    ItemClassification,
    Match,
    canonical_scheme,
)
from tipaudit.procurement.classify.schemes import scheme_code

G = "garments_textiles_footwear"
#: Ukrainian scheme names, written with escapes (Cyrillic letters look like Latin ones).
DK021 = "\u0414\u041a021"
DKPP = "\u0414\u041a\u041f\u041f"
ME = "manufacturing_electronics"


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    """One classifier for the module: loading reads and validates every data file."""
    return Classifier.load()


def labels(result: ItemClassification) -> tuple[set[str], set[str]]:
    return set(result.good_labels), set(result.industry_labels)


# (scheme, code, description, extra text) → (ILAB goods, industries)
LANGUAGE_CASES = {
    "es cotton uniforms": (
        (None, None, "Uniformes de algodón para el personal", None),
        ({"Garments", "Cotton"}, {G}),
    ),
    "en cotton uniforms": (
        (None, None, "Supply of cotton uniforms", None),
        ({"Garments", "Cotton"}, {G}),
    ),
    "fr cotton uniforms": (
        (None, None, "Uniformes en coton pour les cols bleus", None),
        ({"Garments", "Cotton"}, {G}),
    ),
    "ro cotton uniforms": (
        (None, None, "Uniformă de vară din bumbac", None),
        ({"Garments", "Cotton"}, {G}),
    ),
    "en uniforms without cotton": ((None, None, "Work uniforms", None), ({"Garments"}, {G})),
    "es cleaning services": (
        (None, None, "Servicios de limpieza", None),
        (set(), {"cleaning_services"}),
    ),
    "en security guard services": (
        (None, None, "Security guard services", None),
        (set(), {"security_services"}),
    ),
    "es construction with damaged accents": (
        (None, None, "CONSTRUCCI?N DE BARDA PERIMETRAL", None),
        (set(), {"construction"}),
    ),
    "es latex gloves": (
        (None, None, "GUANTE DE LATEX PARA EXPLORACION", None),
        ({"Gloves", "Rubber Gloves"}, {ME}),
    ),
    "es common brick": (
        (None, None, "Ladrillo común", None),
        ({"Bricks", "Bricks (clay)"}, {"construction", ME}),
    ),
    "es washed sand": ((None, None, "Arena lavada", None), ({"Sand"}, {"mining", "construction"})),
    "ro laptop": ((None, None, "Laptop de tip 2", None), ({"Electronics"}, {ME})),
    "ro scalpel blades": (
        (None, None, "Lame de bisturiu nr. 11", None),
        ({"Surgical Instruments"}, {ME}),
    ),
    "uk wheat bread": (
        (None, None, "Хліб пшеничний", None),
        ({"Baked Goods", "Wheat"}, {"food_processing"}),
    ),
    "ru latex gloves": (
        (None, None, "Перчатки латексные", None),
        ({"Gloves", "Rubber Gloves"}, {ME}),
    ),
    "zh laptop": ((None, None, "筆記型電腦壹批", None), ({"Electronics"}, {ME})),
    "zh works": ((None, None, "護岸改善應急工程", None), (set(), {"construction"})),
    "hy liquid soap": ((None, None, "օճառ, հեղուկ", None), ({"Soap"}, {ME})),
    "hy-Latn car washing": (
        (None, None, "avtvomeqenaneri lvacman ― nmanatip carayvoutyvounner", None),
        (set(), {"cleaning_services"}),
    ),
    "en process title read when the item says nothing": (
        ("CPV", "98000000", "See description of related tender.", "Road rehabilitation works"),
        (set(), {"construction"}),
    ),
}


@pytest.mark.parametrize("case", list(LANGUAGE_CASES), ids=list(LANGUAGE_CASES))
def test_keywords_per_language(classifier: Classifier, case: str) -> None:
    """Descriptions in every sample language map to the labelling rules' goods and industries."""
    (scheme, code, description, extra), expected = LANGUAGE_CASES[case]
    result = classifier.classify_item(scheme, code, description, extra_text=extra)
    assert expected == labels(result)


SCHEME_CASES = {
    "CPV division 18": (("CPV", "18000000-2"), (set(), {G})),
    "CPV occupational clothing": (("cpv", "18110000-3"), ({"Garments"}, {G})),
    "CPV footwear, no check digit": (("CPV", "18830000"), ({"Footwear"}, {G})),
    "CPV works": (("CPV", "45233140-2"), (set(), {"construction"})),
    "CPV works, division": (("CPV", "45000000-7"), (set(), {"construction"})),
    "CPV legal services": (("CPV", "79111000-5"), (set(), set())),
    "CPV ear tags are not cattle": (("CPV", "03341000-6"), (set(), set())),
    "CPV Ukrainian DK021 name": ((DK021, "15811000-6"), ({"Baked Goods"}, {"food_processing"})),
    "CPV-AM national extension": (("CPV-AM", "31531210"), (set(), {ME})),
    "UNSPSC segment 53": (("UNSPSC", "53000000"), (set(), {G})),
    "UNSPSC clothing commodity": (("UNSPSC", " 53101502"), ({"Garments"}, {G})),
    "UNSPSC computers": (("unspsc", "43211508"), ({"Electronics"}, {ME})),
    "Paraguay catalogue name": (
        (
            "Catálogo de productos, bienes y servicios de la Dirección Nacional de "
            "Contrataciones Públicas del Paraguay",
            "43211509-001",
        ),
        ({"Electronics"}, {ME}),
    ),
    "Paraguay catalogue code, no scheme": (
        ("", "30131602-002"),
        ({"Bricks"}, {"construction", ME}),
    ),
    "HS cotton trousers": (("HS", "6203.42"), ({"Garments"}, {G})),
    "HS coffee": (("HS2017", "090111"), ({"Coffee"}, {"agriculture"})),
    "DKPP workwear": ((DKPP, "14.12.30-13.00"), ({"Garments"}, {G})),
    "CPC waterworks (Taiwan)": (("CPC", "5133"), (set(), {"construction"})),
    "GSIN clothing": (("GSIN", "N8405"), ({"Garments"}, {G})),
    "PSC clothing class": (("PSC", "8405"), ({"Garments"}, {G})),
    "GSIN guard services": (("GSIN", "S206A"), (set(), {"security_services"})),
    "CUCoP storage": (("CUCoP", "34600001"), (set(), {"logistics"})),
    "GACM budget partida as scheme": (
        ("SERVICIOS DE VIGILANCIA", "3380"),
        (set(), {"security_services"}),
    ),
    "NAICS janitorial": (("NAICS", "561720"), (set(), {"cleaning_services"})),
}


@pytest.mark.parametrize("case", list(SCHEME_CASES), ids=list(SCHEME_CASES))
def test_codes_per_scheme(classifier: Classifier, case: str) -> None:
    """Codes of every scheme map through their crosswalk, most specific prefix first."""
    (scheme, code), expected = SCHEME_CASES[case]
    assert expected == labels(classifier.classify_item(scheme, code, None))


NEGATIVE_CASES = {
    "coffee machine repair": (None, None, "coffee machine repair"),
    "legal services": (None, None, "legal services"),
    "supervision of construction": (None, None, "Supervision of construction of the dam"),
    "cleaning products are goods": (None, None, "Productos de limpieza"),
    "printed cattle forms": (None, None, "FORMA GUIA DE TRANSITO DE GANADO FOLIOS 1 AL 1000"),
    "air tickets are travel": ("CPV", "60410000-5", "Air tickets for the delegation"),
    "rubber bands are not Rubber": (None, None, "Rubber bands, assorted"),
    "nail polish": (None, None, "Nail polish remover"),
    "a colour is not coffee": (None, None, "Folder color café"),
    "garbage CPV code": ("CPV", "441055482", None),
    "unknown CPV code": ("CPV", "99999999-1", None),
    "garbage UNSPSC code": ("UNSPSC", "ABC", None),
    "unknown scheme": ("FAM-GOB-JAL", "014-002", None),
    "nothing at all": (None, None, None),
}


@pytest.mark.parametrize("case", list(NEGATIVE_CASES), ids=list(NEGATIVE_CASES))
def test_negatives_and_garbage_give_nothing(classifier: Classifier, case: str) -> None:
    """Look-alikes, non-risky services and invalid codes give no good and no industry."""
    scheme, code, description = NEGATIVE_CASES[case]
    assert (set(), set()) == labels(classifier.classify_item(scheme, code, description))


def test_invalid_code_is_noted_and_text_still_used(classifier: Classifier) -> None:
    """An invalid CPV code gives no match and a note; the description is still read."""
    result = classifier.classify_item("CPV", "76220976", "Construction of farm access road")
    assert ({"construction"}, ["CPV code '76220976' is not a CPV 2008 code; ignored"]) == (
        set(result.industry_labels),
        [n for n in result.notes if "CPV code" in n],
    )


def test_code_evidence_names_code_entry_and_file(classifier: Classifier) -> None:
    """A code match says which code, which crosswalk entry and which file gave the label."""
    result = classifier.classify_item("CPV", "18110000-3", None)
    garments = next(m for m in result.goods if m.label == "Garments")
    assert (
        "code",
        "crosswalk/cpv.yaml",
        "CPV 18110000 'Occupational clothing' → Garments (crosswalk/cpv.yaml, 18100000 "
        "'Occupational clothing, special workwear and accessories': occupational clothing, "
        "workwear and uniforms)",
    ) == (garments.via, garments.source_file, garments.evidence)


def test_keyword_evidence_names_term_language_and_field(classifier: Classifier) -> None:
    """A keyword match says which term, in which language file and which field."""
    result = classifier.classify_item(None, None, "Camisas de algodón")
    cotton = next(m for m in result.goods if m.label == "Cotton")
    assert (
        Match(
            "Cotton",
            "keyword",
            "keyword 'algodón' (es) in description → Cotton: el artículo es o contiene algodón",
            "keywords/es.yaml",
        )
        == cotton
    )


def test_category_fallback_only_when_nothing_else_speaks(classifier: Classifier) -> None:
    """mainProcurementCategory 'works' gives construction only when code and text are silent."""
    silent = classifier.classify_item(None, None, "Lot 3", category="works")
    services = classifier.classify_item(None, None, "Legal advice", category="works")
    goods = classifier.classify_item(None, None, "Lot 3", category="goods")
    assert (["category"], set(), set()) == (
        [m.via for m in silent.industries],
        set(services.industry_labels),
        set(goods.industry_labels),
    )


def test_weak_budget_code_gives_way_to_the_text(classifier: Classifier) -> None:
    """A GACM budget partida (works) counts only when no keyword names the item."""
    waste = classifier.classify_item(
        "EDIFICACION NO HABITACIONAL", "6220", "Servicio de recoleccion de residuos urbanos"
    )
    unnamed = classifier.classify_item(
        "EDIFICACION NO HABITACIONAL", "6220", "Trabajos complementarios en el predio"
    )
    assert (set(), {"construction"}) == (
        set(waste.industry_labels),
        set(unnamed.industry_labels),
    )


def test_what_an_item_is_for_is_not_the_item(classifier: Classifier) -> None:
    """A battery for a radio station is electrical equipment, not the ILAB good Electronics."""
    result = classifier.classify_item(None, None, "Acumulator pentru stație radio Kenwood")
    assert (set(), {ME}) == labels(result)


def test_item_text_beats_the_classification_description(classifier: Classifier) -> None:
    """A category text ("MATERIAL DE CURACION") gives way to the item's own description."""
    result = classifier.classify_item(
        "FAM-GOB-JAL",
        "013-007",
        "TRAPEADOR DE HILAZA 500 GRAMOS",
        classification_description="ACCESORIOS UTENSILIOS Y EQ. DE LIMPIEZA",
    )
    assert (set(), {G}) == labels(result)


def test_classification_text_that_is_a_cpv_label_acts_as_the_code(classifier: Classifier) -> None:
    """With no usable code, a classification description equal to a CPV label is that code."""
    result = classifier.classify_item(
        None, None, None, classification_description="Îmbrăcăminte de uz profesional"
    )
    assert (["code"], {G}) == ([m.via for m in result.industries], set(result.industry_labels))


def test_none_is_never_an_industry(classifier: Classifier) -> None:
    """``none`` is never reported as an industry; it explains what identified the item."""
    result = classifier.classify_item("CPV", "79111000-5", "Legal advisory services")
    assert ((), {"none"}) == (result.industries, {m.label for m in result.not_at_risk})


def test_every_reported_industry_is_in_the_vocabulary(classifier: Classifier) -> None:
    """Industries reported for a spread of items all belong to the fixed vocabulary."""
    reported = {
        label
        for args in ((*SCHEME_CASES[case][0], None) for case in SCHEME_CASES)
        for label in classifier.classify_item(*args).industry_labels
    }
    assert set() == reported - INDUSTRIES


def test_results_are_memoised_and_cache_can_be_cleared() -> None:
    """The same input returns the same result object until the cache is cleared."""
    fresh = Classifier.load(cache_size=16)
    first = fresh.classify_item("CPV", "45000000", "Obra")
    again = fresh.classify_item("CPV", "45000000", "Obra")
    fresh.cache_clear()
    third = fresh.classify_item("CPV", "45000000", "Obra")
    assert (True, False, first) == (first is again, first is third, third)


SCHEME_NAMES = {
    ("CPV", ""): "CPV",
    ("cpv", ""): "CPV",
    (" C.P.V. ", ""): "CPV",
    ("CPV-AM", ""): "CPV-AM",
    (DK021, ""): "CPV",
    (DKPP, ""): "CPA",
    ("UNSPSC", ""): "UNSPSC",
    ("CUCoP", ""): "COG-MX",
    ("GSIN", ""): "GSIN",
    ("HS", ""): "HS",
    ("EDIFICACION NO HABITACIONAL", "6220"): "COG-MX",
    ("FAM-GOB-JAL", "014-002"): None,
    ("", "18110000-3"): "CPV",
    ("", "43211508-001"): "UNSPSC",
    ("", "18110000"): None,
    ("", ""): None,
}


@pytest.mark.parametrize("name_code", list(SCHEME_NAMES), ids=[repr(k) for k in SCHEME_NAMES])
def test_scheme_names_are_normalised(name_code: tuple[str, str]) -> None:
    """Messy scheme names (and, when empty, unambiguous code shapes) resolve to a scheme."""
    assert SCHEME_NAMES[name_code] == canonical_scheme(*name_code)


def test_psc_goods_codes_take_the_gsin_form() -> None:
    """A numeric US PSC/FSC goods code is looked up as GSIN ``N`` + class."""
    found = scheme_code("PSC", "8405")
    assert ("GSIN", "N8405") == (found and (found.scheme, found.code))
