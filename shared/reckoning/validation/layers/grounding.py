"""Layer 4 — grounding: the report is about this person, not anyone.

Each free-text answer is an anchor: it counts as used when the report shares
enough of its distinctive words (crude five-letter stems, stop words and generic
life words left out). Each choice answer is a half-weight anchor, used when the
report names the chosen option. The score is the weighted share of anchors used.
"""

from __future__ import annotations

from dataclasses import dataclass

from reckoning.models.judgement import Category
from reckoning.validation.facts import Facts
from reckoning.validation.layers.privacy import EMAIL, URL
from reckoning.validation.result import Finding, LayerResult, outcome
from reckoning.validation.subject import Subject
from reckoning.validation.text import content_stems, sentences

LAYER = "grounding"
WORDS_FOR_FULL_CREDIT = 3
CHOICE_WEIGHT = 0.5
PASS_MARK = 0.6
BLOCK_BELOW = 0.45  # a generic report scores about 0.25; a good one above 0.9


def check(subject: Subject) -> LayerResult:
    anchors = _anchors(subject.facts, content_stems(subject.view.full_text()))
    if not anchors:
        return outcome(LAYER, [], ok="no written answers to ground on")
    score = sum(a.weight * a.share for a in anchors) / sum(a.weight for a in anchors)
    unused = [a.question_id for a in anchors if a.share < 1.0]
    named = ", ".join(unused[:4])
    message = f"grounding {score:.2f}: little of their own words from {named}; refer to the specifics they wrote"
    # Whether a report is about this person is a judgement: a low share is a lead for the judge, with the
    # passage that should have been most specific (the first section) as its quote.
    suspicion = Finding(1.0 - score, message, kind="suspicion", category=Category.GROUNDING, quote=_lead(subject))
    return outcome(
        LAYER,
        [suspicion] if unused else [],
        ok=f"fully uses {len(anchors) - len(unused)} of {len(anchors)} of their answers",
        pass_mark=PASS_MARK,
        block_below=BLOCK_BELOW,
    )


@dataclass(frozen=True, slots=True)
class Anchor:
    question_id: str
    weight: float
    share: float  # how much of it the report uses, 0..1


def _lead(subject: Subject) -> str:
    view = subject.view
    text = next((section.body for section in view.sections if section.body.strip()), view.summary)
    return next(iter(sentences(text)), text)


def _anchors(facts: Facts, used: set[str]) -> list[Anchor]:
    anchors: list[Anchor] = []
    for question_id, text in facts.free_texts.items():
        # Contact details are words a report must not repeat (privacy), so they cannot count as unused.
        distinctive = content_stems(URL.sub(" ", EMAIL.sub(" ", text)))
        if distinctive:
            needed = min(WORDS_FOR_FULL_CREDIT, len(distinctive))
            anchors.append(Anchor(question_id, 1.0, min(1.0, len(distinctive & used) / needed)))
    for question_id, (value, question) in facts.choices.items():
        label = next((o.label for o in question.options if o.value == value), value)
        named = bool(content_stems(f"{value} {label}") & used)
        anchors.append(Anchor(question_id, CHOICE_WEIGHT, 1.0 if named else 0.0))
    return anchors
