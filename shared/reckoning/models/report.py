"""The report: the model's structured-output schema and the report JSON of DESIGN §3."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from reckoning.models import ApiModel

Horizon = Literal["this_week", "this_month", "this_year"]


class Section(ApiModel):
    area: str = Field(description="The life area this section covers, e.g. work, health.")
    heading: str = Field(description="A short, specific heading.")
    body: str = Field(description="Paragraphs separated by a blank line.")


class NextStep(ApiModel):
    action: str = Field(description="One concrete action the person can take.")
    why: str = Field(description="Why it matters, tied to their answers.")
    horizon: Horizon


class Report(ApiModel):
    title: str
    summary: str = Field(description="Two to four sentences.")
    sections: list[Section] = Field(min_length=1)
    next_steps: list[NextStep] = Field(min_length=1)
    closing: str
