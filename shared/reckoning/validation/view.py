"""A forgiving reading of the raw report: whatever the model produced, as plain strings.

The structure layer judges the shape; every other layer works on this view, so a
report with a missing field or a wrong type yields empty text instead of a crash.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class SectionView:
    area: str
    heading: str
    body: str


@dataclass(frozen=True, slots=True)
class StepView:
    action: str
    why: str
    horizon: str


@dataclass(frozen=True, slots=True)
class Passage:
    """A piece of prose and where it sits, for reasons that point at a place without quoting it."""

    where: str
    text: str


@dataclass(frozen=True, slots=True)
class ReportView:
    title: str
    summary: str
    sections: tuple[SectionView, ...]
    next_steps: tuple[StepView, ...]
    closing: str

    @classmethod
    def of(cls, report: object) -> ReportView:
        raw: Mapping[str, Any] = report if isinstance(report, Mapping) else {}
        return cls(
            title=_text(raw.get("title")),
            summary=_text(raw.get("summary")),
            sections=tuple(
                SectionView(_text(s.get("area")), _text(s.get("heading")), _text(s.get("body")))
                for s in _objects(raw.get("sections"))
            ),
            next_steps=tuple(
                StepView(_text(s.get("action")), _text(s.get("why")), _text(s.get("horizon")))
                for s in _objects(raw.get("nextSteps", raw.get("next_steps")))
            ),
            closing=_text(raw.get("closing")),
        )

    def passages(self) -> Iterator[Passage]:
        """Every piece of text in reading order."""
        yield Passage("the title", self.title)
        yield Passage("the summary", self.summary)
        for n, section in enumerate(self.sections, start=1):
            yield Passage(f"the heading of section {n}", section.heading)
            yield Passage(f"section {n}", section.body)
        for n, step in enumerate(self.next_steps, start=1):
            yield Passage(f"next step {n}", f"{step.action}\n\n{step.why}")
        yield Passage("the closing", self.closing)

    def prose(self) -> Iterator[Passage]:
        """The running text a person reads as paragraphs: summary, section bodies, closing."""
        yield Passage("the summary", self.summary)
        for n, section in enumerate(self.sections, start=1):
            yield Passage(f"section {n}", section.body)
        yield Passage("the closing", self.closing)

    def full_text(self) -> str:
        return "\n\n".join(p.text for p in self.passages() if p.text)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _objects(value: object) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []
