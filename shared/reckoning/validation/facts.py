"""What the validator knows about the person, read from their submission once per run."""

from __future__ import annotations

from dataclasses import dataclass

from reckoning.models.questionnaire import ChoiceQuestion, NumberQuestion, ScaleQuestion, TextQuestion
from reckoning.models.submission import Submission
from reckoning.validation.text import fold_name, normalise, plain, words


@dataclass(frozen=True, slots=True)
class Facts:
    name_words: frozenset[str]  # case-folded words of the person's own name
    free_texts: dict[str, str]  # question id -> their own words
    choices: dict[str, tuple[str, ChoiceQuestion]]  # question id -> (chosen option value, question)
    scales: dict[str, tuple[float, ScaleQuestion | NumberQuestion]]  # question id -> (value, question)
    focus_areas: tuple[str, ...]
    written_areas: tuple[str, ...]  # life areas (not the overview) they wrote about in their own words
    answer_words: frozenset[str]  # every case-folded word they wrote, names of people they mention included
    known_names: frozenset[str]  # their name's words and their own words, folded as names ("Zoë" ~ "zoe")
    answered_plain: str  # their own words as `plain` gives them, to recognise a quotation
    area_names: dict[str, str]  # any accepted spelling of a life area (case-folded) -> canonical area

    @property
    def answered_text(self) -> str:
        return "\n".join(self.free_texts.values())


def facts_of(submission: Submission) -> Facts:
    answers, questionnaire = submission.answers, submission.questionnaire
    free_texts: dict[str, str] = {}
    choices: dict[str, tuple[str, ChoiceQuestion]] = {}
    scales: dict[str, tuple[float, ScaleQuestion | NumberQuestion]] = {}
    written: dict[str, None] = {}
    for question in questionnaire.questions:
        value = answers.get(question.id)
        match question:
            case TextQuestion() if isinstance(value, str) and value.strip():
                free_texts[question.id] = normalise(value)
                if question.role is None:
                    written[question.area] = None
            case ChoiceQuestion() if isinstance(value, str):
                choices[question.id] = (value, question)
            case ScaleQuestion() | NumberQuestion() if isinstance(value, int | float) and not isinstance(value, bool):
                scales[question.id] = (float(value), question)
    name_words = frozenset(w.casefold() for w in words(normalise(submission.name or "")))
    answer_words = frozenset(w.casefold() for w in words("\n".join(free_texts.values())))
    return Facts(
        name_words=name_words,
        free_texts=free_texts,
        choices=choices,
        scales=scales,
        focus_areas=tuple(submission.focus_areas()),
        written_areas=tuple(written),
        answer_words=answer_words,
        known_names=frozenset(fold_name(w) for w in name_words | answer_words),
        answered_plain=" " + " ".join(plain(t) for t in free_texts.values()) + " ",
        area_names=_area_names(submission),
    )


def _area_names(submission: Submission) -> dict[str, str]:
    """Areas may be named by option value ("work") or label ("Work and career")."""
    names = {q.area.casefold(): q.area for q in submission.questionnaire.questions}
    for option in submission.questionnaire.areas().values():
        names[option.value.casefold()] = option.value
        names[option.label.casefold()] = option.value
    return names


def canonical_area(facts: Facts, area: str) -> str | None:
    """The life area a section's `area` names, tolerating labels and extra words ("Work & career")."""
    folded = area.strip().casefold()
    return next((facts.area_names[name] for name in [folded, *words(folded)] if name in facts.area_names), None)
