"""Splitting documents into provisions with section labels, lines and lead-ins."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tipaudit.policy.bundled import bundled_path
from tipaudit.policy.provisions import MAX_PROVISION_CHARS, split_document, split_sentences
from tipaudit.policy.reading import Document, Page, read_document


def doc(text: str) -> Document:
    return Document("t.md", "markdown", (Page(None, text),), "")


def test_statute_sections_and_lead_ins() -> None:
    path = bundled_path("us-22usc7104-7104a-prevention-contracts-compliance-plan.md")
    provisions = split_document(read_document(path))
    fees = next(p for p in provisions if p.text.startswith("Charging recruited employees"))
    assert fees.location.section == "§ 7104(g)(4)(D)"
    assert "terminate" in fees.lead_in
    assert "acts that directly support or advance trafficking" in fees.lead_in
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[fees.location.line_start - 1].startswith("(D) Charging recruited employees")
    assert fees.location.column_start == 5


def test_sentences_respect_abbreviations() -> None:
    text = (
        "The Secretary shall report under 22 U.S.C. 7107 and Sec. 4 of the Act. "
        "Workers, e.g. domestic workers, are covered. A new sentence starts here."
    )
    spans = [text[a:b] for a, b in split_sentences(text)]
    assert spans == [
        "The Secretary shall report under 22 U.S.C. 7107 and Sec. 4 of the Act.",
        "Workers, e.g. domestic workers, are covered.",
        "A new sentence starts here.",
    ]


def test_articles_numbering_and_offsets() -> None:
    text = (
        "# Regulation\n\nArticle 1 - Scope\n\nThis applies to all.\n\n"
        "Article 2. Employers shall not retain passports. Workers may change employer.\n"
        "1. First item:\n(a) nested item.\n"
    )
    provisions = split_document(doc(text))
    by_text = {p.text: p for p in provisions}
    assert by_text["This applies to all."].location.section == "Article 1"
    second = by_text["Workers may change employer."]
    assert second.location.section == "Article 2"
    assert text[second.location.char_start : second.location.char_end] == second.text
    nested = by_text["nested item."]
    assert nested.location.section.endswith("(1)(a)")
    assert nested.lead_in.endswith("First item:")


def test_long_sentences_are_cut_at_semicolons() -> None:
    clause = "the employer shall pay wages on time; " * 200
    provisions = split_document(doc(clause))
    assert len(provisions) > 1
    assert all(len(p.text) <= MAX_PROVISION_CHARS for p in provisions)


def test_html_like_noise_and_empty_lines() -> None:
    provisions = split_document(doc("\n\n---\n\n***\n\n(1)\n\nReal text here.\n"))
    assert [p.text for p in provisions] == ["Real text here."]


def test_many_single_letter_sentences_stay_linear() -> None:
    import time

    start = time.perf_counter()
    provisions = split_document(doc("A. " * 60_000))
    assert provisions
    assert time.perf_counter() - start < 5


_ALPHABET = st.sampled_from(
    [*list("abcAB .,;:()\n#-§1234"), "Article 3. ", "(a) ", "U.S.C. ", "shall not ", "\n\n"]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_ALPHABET, max_size=120).map("".join))
def test_offsets_always_point_at_the_provision(text: str) -> None:
    for provision in split_document(doc(text)):
        loc = provision.location
        assert " ".join(text[loc.char_start : loc.char_end].split()) == provision.text
        assert 1 <= loc.line_start <= loc.line_end <= text.count("\n") + 1
