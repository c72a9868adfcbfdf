"""The report PDF: readable text in any European script, safe with untrusted text, paginated."""

# Greek and Cyrillic letters here are the point of the tests, not look-alike typos.
# ruff: noqa: RUF001

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from pypdf import PdfReader

from reckoning.models.report import Report
from reckoning.pdf import render

GENERATED_AT = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)

BODY = (
    "You said work feels like a weight you carry into every week, and that the conversation with your "
    "manager has been waiting for months.\n\n"
    "You also told us you light up when you talk to users. That is the clearest signal in what you wrote."
)


def make_report(section_count: int = 3, **overrides: Any) -> Report:
    content: dict[str, Any] = {
        "title": "Drifting, and ready to steer",
        "summary": "You are steady on paper and restless underneath. The clearest thread is the move into product.",
        "sections": [
            {"area": f"area {n}", "heading": f"Heading number {n}", "body": f"Section {n} opens here. {BODY}"}
            for n in range(1, section_count + 1)
        ],
        "nextSteps": [
            {
                "action": "Book thirty minutes with your manager.",
                "why": "It ends a weekly cost.",
                "horizon": "this_week",
            },
            {"action": "Message Priya about her move.", "why": "She walked this path.", "horizon": "this_month"},
            {"action": "Pick a race for the autumn.", "why": "Training steadies you.", "horizon": "this_year"},
        ],
        "closing": "You already know what you want; the rest is a few deliberate conversations.",
    }
    content.update(overrides)
    return Report.model_validate(content)


def pdf_text(data: bytes) -> tuple[int, str]:
    """(page count, all text with whitespace collapsed) as a PDF reader extracts it."""
    reader = PdfReader(io.BytesIO(data))
    text = " ".join(page.extract_text() for page in reader.pages)
    return len(reader.pages), " ".join(text.split())


def test_a_typical_report_is_a_small_pdf_with_every_part_in_reading_order() -> None:
    report = make_report()

    data = render(report, "Ada", GENERATED_AT)

    assert data.startswith(b"%PDF-")
    assert len(data) < 100_000  # fonts are subset: a few tens of kilobytes
    _, text = pdf_text(data)
    parts = [
        report.title,
        "Prepared for Ada",
        "Generated 12 March 2026",
        report.summary,
        "Heading number 1",
        "Heading number 2",
        "Heading number 3",
        "Next steps",
        "THIS WEEK",
        "Book thirty minutes with your manager.",
        "It ends a weekly cost.",
        "THIS MONTH",
        "THIS YEAR",
        report.closing,
    ]
    positions = [text.find(part) for part in parts]
    assert -1 not in positions, [part for part, at in zip(parts, positions, strict=True) if at == -1]
    assert positions == sorted(positions)


def test_body_paragraphs_are_all_rendered() -> None:
    _, text = pdf_text(render(make_report(section_count=1), "Ada", GENERATED_AT))

    assert "has been waiting for months." in text
    assert "the clearest signal in what you wrote." in text


def test_next_steps_are_grouped_by_horizon_whatever_order_they_come_in() -> None:
    steps = [
        {"action": "Yearly thing.", "why": "Long game.", "horizon": "this_year"},
        {"action": "Weekly thing.", "why": "Start now.", "horizon": "this_week"},
        {"action": "Another weekly thing.", "why": "Momentum.", "horizon": "this_week"},
    ]

    _, text = pdf_text(render(make_report(nextSteps=steps), "Ada", GENERATED_AT))

    week, weekly, another, year, yearly = (
        text.find(s) for s in ("THIS WEEK", "Weekly thing.", "Another weekly thing.", "THIS YEAR", "Yearly thing.")
    )
    assert -1 < week < weekly < another < year < yearly
    assert "THIS MONTH" not in text  # no empty group


@pytest.mark.parametrize("name", ["Zoë Ångström", "Δημήτρης", "Ольга", "François Œuvre-Łukasiewicz"])
def test_european_names_survive_into_the_pdf_text(name: str) -> None:
    _, text = pdf_text(render(make_report(), name, GENERATED_AT))

    assert f"Prepared for {name}" in text


def test_greek_and_cyrillic_report_text_survives() -> None:
    sections = [
        {"area": "εργασία", "heading": "Η δουλειά σου", "body": "Είπες ότι η δουλειά σε βαραίνει."},
        {"area": "здоровье", "heading": "Энергия, а не дисциплина", "body": "Ты бегаешь по утрам."},
    ]

    _, text = pdf_text(render(make_report(sections=sections), "Ольга", GENERATED_AT))

    for expected in ("Η δουλειά σου", "Είπες ότι η δουλειά σε βαραίνει.", "Энергия, а не дисциплина"):
        assert expected in text


def test_without_a_name_the_report_is_prepared_for_you() -> None:
    _, text = pdf_text(render(make_report(), None, GENERATED_AT))

    assert "Prepared for you" in text


def test_characters_outside_the_font_degrade_to_a_question_mark() -> None:
    report = make_report(title="Your year 山田 🫠 ahead", closing="Onward 👩‍👩‍👧‍👦 together.")

    _, text = pdf_text(render(report, "山田太郎", GENERATED_AT))

    assert "Prepared for ????" in text
    assert "Your year ?? ? ahead" in text
    assert "Onward" in text and "together." in text


def test_model_text_is_never_interpreted_as_markup() -> None:
    markup = "**not bold** <b>not html</b> __nor__ ~~this~~ {nb} [link](https://example.com)"
    report = make_report(closing=markup)

    _, text = pdf_text(render(report, "<i>Ada</i>", GENERATED_AT))

    assert markup in text
    assert "Prepared for <i>Ada</i>" in text


def test_invisible_control_and_direction_characters_are_dropped() -> None:
    report = make_report(closing="Safe\u202e txt.exe\u202c end\x07 zero\u200bwidth")

    _, text = pdf_text(render(report, "Ada", GENERATED_AT))

    assert "Safe txt.exe end zerowidth" in text


def test_an_unbroken_word_wider_than_the_page_wraps_instead_of_failing() -> None:
    word = "a" * 400 + "Z"
    report = make_report(sections=[{"area": "x" * 300, "heading": "h" * 300, "body": word}])

    _, text = pdf_text(render(report, "Ada" * 100, GENERATED_AT))

    assert "Z" in text
    assert text.count("a") >= 400


def test_a_long_report_paginates_with_numbered_pages() -> None:
    report = make_report(section_count=20)

    pages, text = pdf_text(render(report, "Ada", GENERATED_AT))

    assert pages >= 6
    for n in range(1, 21):
        assert f"Heading number {n}" in text
    # Every page but the title page says where it is and how many there are.
    numbers = [int(n) for n in re.findall(rf"Page (\d+) of {pages}\b", text)]
    assert numbers == list(range(2, pages + 1))


def test_rendering_is_deterministic_for_the_same_input() -> None:
    report = make_report()

    assert render(report, "Ada", GENERATED_AT) == render(report, "Ada", GENERATED_AT)
