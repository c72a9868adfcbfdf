"""Report → PDF, with fpdf2 (pure Python, so it suits Lambda).

Everything in the report came from the model and is untrusted: it is drawn as
plain text (never markdown or HTML), characters the bundled DejaVu Sans cannot
show become "?" instead of failing, and over-long words wrap by character.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from reckoning.models.report import Horizon, NextStep, Report

if TYPE_CHECKING:
    from fpdf import FPDF

FONT_DIR = Path(__file__).with_name("fonts")
FAMILY = "dejavu"

HORIZONS: dict[Horizon, str] = {"this_week": "This week", "this_month": "This month", "this_year": "This year"}
# Month names spelled here: strftime's %B follows the process locale.
MONTHS = "January February March April May June July August September October November December".split()

# Layout, in millimetres and points.
MARGIN = 24.0
BOTTOM_MARGIN = 22.0
BODY_PT = 11.0
LINE = 6.0
INK = (34, 34, 34)
MUTED = (112, 112, 112)
ACCENT = (46, 84, 110)

# The total-page alias: a private-use character the text cleaner can never let
# through, so words in the report are not mistaken for it (fpdf2's "{nb}" could be).
PAGE_COUNT_ALIAS = "\ue000"
REPLACEMENT = "?"
DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Mn", "Me"})  # controls, format marks, unknown combining marks

Clean = Callable[[str], str]


def render(report: Report, name: str | None, generated_at: datetime) -> bytes:
    """The report as a PDF: title page with the summary, one section each, next steps, closing."""
    pdf = _new_document()
    pdf.set_creation_date(generated_at)
    clean = partial(_clean, covered=_covered_codepoints(pdf))
    pdf.set_title(clean(report.title))
    _title_page(pdf, clean, report, name, generated_at)
    pdf.add_page()
    for section in report.sections:
        _heading(pdf, clean(section.heading), label=clean(section.area))
        _paragraphs(pdf, clean(section.body))
    _next_steps(pdf, clean, report.next_steps)
    _heading(pdf, "In closing")
    _paragraphs(pdf, clean(report.closing))
    return bytes(pdf.output())


def _new_document() -> FPDF:
    from fpdf import FPDF

    class Document(FPDF):
        def footer(self) -> None:
            if self.page_no() == 1:
                return  # the title page stays bare
            self.set_y(-14)
            self.set_font(FAMILY, size=8.5)
            self.set_text_color(*MUTED)
            self.cell(0, 5, f"Page {self.page_no()} of {PAGE_COUNT_ALIAS}", align="C")

    pdf = Document(format="A4", unit="mm")
    pdf.add_font(FAMILY, "", FONT_DIR / "DejaVuSans.ttf")
    pdf.add_font(FAMILY, "B", FONT_DIR / "DejaVuSans-Bold.ttf")
    pdf.alias_nb_pages(PAGE_COUNT_ALIAS)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=BOTTOM_MARGIN)
    return pdf


def _covered_codepoints(pdf: FPDF) -> set[int]:
    """Code points both the regular and the bold face can draw."""
    from fpdf.fonts import TTFFont

    faces = [pdf.fonts[key] for key in (FAMILY, f"{FAMILY}B")]
    return set.intersection(*(set(face.cmap) for face in faces if isinstance(face, TTFFont)))


def _clean(text: str, covered: Collection[int]) -> str:
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " "))
    return "".join(_printable(char, covered) for char in text)


def _printable(char: str, covered: Collection[int]) -> str:
    if char == "\n":
        return char
    category = unicodedata.category(char)
    if ord(char) in covered and category not in DROPPED_CATEGORIES - {"Mn"} and char != PAGE_COUNT_ALIAS:
        return char
    if category in DROPPED_CATEGORIES:
        return ""  # bidi overrides, zero-width joiners, emoji variation selectors: nothing to draw
    return " " if category == "Zs" else REPLACEMENT


def _title_page(pdf: FPDF, clean: Clean, report: Report, name: str | None, generated_at: datetime) -> None:
    pdf.add_page()
    pdf.set_y(62)
    _text(pdf, "RECKONING", size=9, bold=True, color=ACCENT, line=5, char_spacing=2)
    pdf.ln(4)
    _text(pdf, clean(report.title), size=24, bold=True, line=11)
    pdf.ln(6)
    _rule(pdf, width=28)
    pdf.ln(6)
    person = clean(name or "").strip() or "you"
    _text(pdf, f"Prepared for {person}", size=13, line=7)
    generated = f"{generated_at.day} {MONTHS[generated_at.month - 1]} {generated_at.year}"
    _text(pdf, f"Generated {generated}", size=10, color=MUTED, line=6)
    pdf.ln(22)
    _text(pdf, "IN SHORT", size=9, bold=True, color=ACCENT, line=5, char_spacing=1.5)
    pdf.ln(2)
    _paragraphs(pdf, clean(report.summary), size=12, line=7)


def _next_steps(pdf: FPDF, clean: Clean, steps: list[NextStep]) -> None:
    _heading(pdf, "Next steps")
    for horizon, label in HORIZONS.items():
        group = [step for step in steps if step.horizon == horizon]
        if not group:
            continue
        _keep_room(pdf, 30)
        _text(pdf, label.upper(), size=9, bold=True, color=ACCENT, line=5, char_spacing=1.5)
        pdf.ln(1.5)
        for step in group:
            _keep_room(pdf, 18)
            _text(pdf, clean(step.action), size=BODY_PT, bold=True, line=LINE)
            _text(pdf, clean(step.why), size=10, color=MUTED, line=5.5)
            pdf.ln(3)
        pdf.ln(2)


def _heading(pdf: FPDF, heading: str, label: str = "") -> None:
    # Keep a heading with the start of its text rather than alone at a page's foot.
    _keep_room(pdf, 40)
    pdf.ln(6)
    if label.strip():
        _text(pdf, label.strip().upper(), size=8.5, bold=True, color=MUTED, line=5, char_spacing=1.2)
    _text(pdf, heading, size=15, bold=True, color=ACCENT, line=8)
    pdf.ln(2)


def _paragraphs(pdf: FPDF, text: str, size: float = BODY_PT, line: float = LINE) -> None:
    for paragraph in re.split(r"\n[ \u00a0]*\n", text):
        if paragraph.strip():
            _text(pdf, paragraph.strip(), size=size, line=line)
            pdf.ln(line * 0.6)


def _text(
    pdf: FPDF,
    text: str,
    *,
    size: float,
    line: float,
    bold: bool = False,
    color: tuple[int, int, int] = INK,
    char_spacing: float = 0,
) -> None:
    pdf.set_font(FAMILY, "B" if bold else "", size)
    pdf.set_char_spacing(char_spacing)
    pdf.set_text_color(*color)
    pdf.multi_cell(0, line, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_char_spacing(0)


def _rule(pdf: FPDF, width: float) -> None:
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.6)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())


def _keep_room(pdf: FPDF, height: float) -> None:
    if pdf.will_page_break(height):
        pdf.add_page()
