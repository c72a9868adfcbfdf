"""A deterministic report writer for local runs with no Anthropic key.

It composes the report from the person's own answers: their words quoted,
their scores and choices stated exactly, one section per chosen life area (and
per area they wrote about in their own words), next steps tied to what they
said. What it says about each question, option, level of a scale and life area
is the `writer` phrasing of the questionnaire version they answered; only the
parts that hold for any questionnaire (crisis care, the closing, fallbacks) are
written here, in one of three voices (warm, direct, concise) picked by a stable hash of the submission.
Same answers, same report. It is a stand-in that must pass the quality gate on its merits — it shares no
code or expressions with the gate — not a substitute for Claude's judgement.
"""

from __future__ import annotations

import hashlib
import json
import re
import string
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from reckoning.models.questionnaire import (
    ChoiceQuestion,
    NumberQuestion,
    Phrasing,
    Question,
    ScaleQuestion,
    TextQuestion,
)
from reckoning.models.report import NextStep, Report, Section
from reckoning.models.submission import Submission
from reckoning.ports import Draft

MODEL = "offline-writer"
MIN_STEPS, MAX_STEPS = 3, 7
MIN_SECTIONS = 3
SECTION_PARAGRAPHS, SECTION_WORDS = 3, 80  # a section is filled with its area's paragraphs up to both
SUMMARY_SENTENCES = 4
QUOTE_WORDS, SUMMARY_QUOTE_WORDS = 40, 25
HORIZONS = ("this_week", "this_month", "this_year")

_CLAUSE_END = re.compile(r"[,;:\u2013\u2014]\s")
# The writer's own reading of text: where sentences end, and what a report never repeats.
SENTENCE_END = re.compile(r"(?<=[.!?\u2026])[\"'\u201d\u2019)\]]*\s+")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
PHONE = re.compile(r"(?<![\w/])\+?\d[\d ()./-]{5,}\d(?![\w/])")
# Words that tell a writer the person may be in danger: care comes before everything else in the report.
DISTRESS = re.compile(
    r"\b(?:suicid\w*|kill(?:ing)? myself|end(?:ing)? (?:it all|my life)|self[- ]?harm\w*|hurt(?:ing)? myself|"
    r"better off without me|(?:don't|do not|dont) want to (?:live|be here|wake up)|want(?:ed)? to die|"
    r"no (?:reason|point) (?:to|in) (?:live|living|going on)|can(?:'|no)?t go on|not coping|can(?:'|no)?t cope|"
    r"how much longer I can|hopeless|no way out|wish I (?:was|were) (?:dead|gone|not here))",
    re.IGNORECASE,
)

# What is said of an answer whose question has no phrasing of its own.
DEFAULT_SAY = {
    "text": "You wrote: {quote}.",
    "scale": "You answered {value} out of {max}.",
    "number": "Your answer was {value}.",
    "choice": "You chose “{label}”.",
}
DEFAULT_PARAGRAPHS = (
    "Your answers say less about this area than about others, and that gap can be telling: what we most want to "
    "reckon with is sometimes what we find hardest to put into words. It is worth writing down, for yourself, "
    "what a good year here would look like.",
    "It is also worth asking how the change you most want would touch this part of your life, for better or "
    "worse. Big changes rarely stay in one area, and planning for that makes them easier to sustain.",
)
CRISIS_SUMMARY = (
    "What you wrote suggests you may be in a lot of pain right now, so before anything else, please reach out for "
    "support today: your local emergency number if you are in danger, or a crisis line, your doctor or someone you "
    "trust."
)
CRISIS_STEP = NextStep(
    action="Reach out for support today: if you are in danger, call your local emergency number now; otherwise "
    "contact a crisis line, your doctor or a mental health professional, or tell someone you trust how you are "
    "feeling.",
    why="What you wrote deserves care and a real conversation, not only a report, and you do not have to carry it "
    "alone.",
    horizon="this_week",
)
CRISIS_CLOSING = (
    "Please start with the first step: reaching out for support. Everything else in this report can wait until you "
    "are not carrying this alone, and it will still be here when you are ready."
)


@dataclass(frozen=True, slots=True)
class Voice:
    """How a report sounds: its title, openings, crisis care and closing, in one register."""

    name: str
    title: str  # {owner}
    focus: str  # {areas}
    opening: str  # when too little else fills the summary
    crisis_summary: str
    closing: str  # {you}: "Ada, you" or "You"
    crisis_closing: str
    spare: tuple[str, ...]


VOICES: tuple[Voice, ...] = (
    Voice(
        name="warm",
        title="{owner}: {areas}",
        focus="You chose to look closely at {areas}, and this report takes each in turn.",
        opening="This report reflects on where your life stands, in your own words.",
        crisis_summary=CRISIS_SUMMARY,
        closing="{you} answered with more honesty than most people manage, and that honesty is where change "
        "starts. Begin with the smallest step on the list, and let the larger ones follow.",
        crisis_closing=CRISIS_CLOSING,
        spare=DEFAULT_PARAGRAPHS,
    ),
    Voice(
        name="direct",
        title="{owner}, plainly: {areas}",
        focus="You picked {areas} as the parts of your life to face, so that is where this report goes.",
        opening="Here is where things stand, read straight from what you wrote.",
        crisis_summary="The most important thing first: what you wrote says you are struggling badly, and "
        "you deserve support today. If you are in danger, call your local emergency number now; otherwise "
        "call a crisis line, your doctor, or someone you trust.",
        closing="{you} know more about what needs to change than you give yourself credit for. Pick one step, "
        "put a date on it, and start there.",
        crisis_closing="Start with the first step and nothing else: talk to someone today. The rest of this "
        "report will keep until you have support around you.",
        spare=(
            "You said less about this area than the others. That is worth noticing: the part of life we "
            "describe least is often the one we have stopped looking at. Write down, for yourself, what a "
            "good year here would actually look like.",
            "Change in one part of life spills into the others. Before you start, think about which part of "
            "your week the change you want would squeeze, and plan for that on purpose.",
        ),
    ),
    Voice(
        name="concise",
        title="{owner} in brief: {areas}",
        focus="Your chosen areas are {areas}; each has its own section below.",
        opening="A short reckoning of where you are, in your words.",
        crisis_summary="Before anything else: you wrote about pain that sounds serious, so please get support "
        "today. If you are in danger, call your local emergency number; otherwise a crisis line, your doctor "
        "or someone you trust.",
        closing="{you} have already done the hard part, which was saying it honestly. Take the first small "
        "step this week.",
        crisis_closing="Please begin with the first step: reaching out for support today. Nothing else in "
        "this report matters more, and it will wait for you.",
        spare=(
            "You wrote least about this area. Ask yourself what a good year here would look like, in one or "
            "two concrete sentences, and keep the answer somewhere you will see it.",
            "Any change you make will touch this area too. Decide in advance what you are willing to give up "
            "for it, so the change lasts beyond the first busy month.",
        ),
    ),
)


def voice_of(submission: Submission) -> Voice:
    """A voice picked by a stable hash of the submission: the same person always hears the same one."""
    key = json.dumps([submission.name, submission.answers], sort_keys=True, ensure_ascii=False, default=str)
    return VOICES[int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(VOICES)]


class OfflineWriter:
    """Builds a report from the answers alone; `feedback` is ignored (the output is deterministic)."""

    model = MODEL

    def write(self, submission: Submission, feedback: Sequence[str] = ()) -> Draft:
        started = time.perf_counter()
        content = compose(submission)
        latency_ms = round((time.perf_counter() - started) * 1000)
        return Draft(
            content=content,
            model=self.model,
            stop_reason="end_turn",
            input_tokens=None,
            output_tokens=None,
            latency_ms=latency_ms,
        )


def compose(submission: Submission) -> dict[str, Any]:
    """The report JSON (camelCase keys, as the model would produce it)."""
    person = Person(submission)
    return Report(
        title=_title(person),
        summary=_summary(person),
        sections=[_section(person, area) for area in person.areas()],
        next_steps=_next_steps(person),
        closing=person.voice.crisis_closing if person.crisis else _closing(person),
    ).model_dump(by_alias=True)


@dataclass(frozen=True, slots=True)
class Answer:
    """One answered question, with what its answer fills into templates."""

    question: Question
    words: str = ""  # their own words (text questions)
    value: str = ""  # a score or count as written
    max: str = ""
    label: str = ""  # the chosen option's label
    particular: Phrasing | None = None  # the phrasing of the chosen option or of the score's level

    def phrasing(self, field: str) -> Any:
        """The chosen option's or level's phrasing for `field`, else the question's."""
        own = getattr(self.particular, field, None) if self.particular else None
        return own or getattr(self.question.writer, field)


class Person:
    """One person's answers, read against the questionnaire version they answered."""

    def __init__(self, submission: Submission) -> None:
        self.name = (submission.name or "").strip() or None
        self.known_areas = submission.questionnaire.areas()
        self.focus = [area for area in submission.focus_areas() if area in self.known_areas]
        # The validator's own test for crisis language: whatever it would look for, this report answers.
        self.crisis = any(isinstance(v, str) and DISTRESS.search(v) for v in submission.answers.values())
        self.voice = voice_of(submission)
        self.answers = list(_answers(submission))
        self.quoted: set[str] = set()  # sentences of theirs already quoted beyond a first sentence
        self.spare = list(self.voice.spare)  # each used once at most, or the report would repeat itself

    def areas(self) -> list[str]:
        """The chosen areas, then other areas they wrote about in their own words, then (while the report
        would be thin) areas they only scored or chose an option for."""
        own = [a for a in self.answers if a.question.role is None]
        chosen = list(dict.fromkeys([*self.focus, *(a.question.area for a in own if a.words)]))
        for area in (a.question.area for a in own):
            if len(chosen) < MIN_SECTIONS and area not in chosen:
                chosen.append(area)
        return chosen

    def label(self, area: str) -> str:
        option = self.known_areas.get(area)
        return _lower_first(option.label) if option else area

    def fill(self, template: str, answer: Answer, *, quote_words: int = QUOTE_WORDS) -> str:
        """A template with the answer's parts filled in; a quotation goes on with sentences not yet quoted."""
        used = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        parts = {"value": answer.value, "max": answer.max, "label": answer.label}
        if "quote" in used:
            parts["quote"] = quote(answer.words, quote_words, more_from=self.quoted)
        if "clause" in used:
            parts["clause"] = clause(answer.words)
        return template.format(**parts)


def _answers(submission: Submission) -> Iterator[Answer]:
    """The answered questions in questionnaire order; a text answer repeating an earlier one word for word is left
    out, as quoting it twice would only repeat the report."""
    seen: set[str] = set()
    for question in submission.questionnaire.questions:
        value = submission.answers.get(question.id)
        match question:
            case TextQuestion() if isinstance(value, str) and value.strip():
                key = " ".join(value.casefold().split())
                if key not in seen:
                    seen.add(key)
                    yield Answer(question, words=" ".join(value.split()))
            case ScaleQuestion() | NumberQuestion() if isinstance(value, int | float) and not isinstance(value, bool):
                level = question.writer.level(value)
                yield Answer(question, value=f"{value:g}", max=f"{question.max:g}", particular=level)
            case ChoiceQuestion():
                option = next((o for o in question.options if o.value == value), None)
                if option:
                    yield Answer(question, label=_lower_first(option.label), particular=option.writer)


# --- quoting ---------------------------------------------------------------------------------------------


def quote(text: str, max_words: int = 30, *, more_from: set[str] | None = None) -> str:
    """Their words in quotation marks: the first sentence, cut at a clause when long.

    With `more_from` (the sentences quoted so far, updated here), further sentences follow up to
    `max_words`, leaving out any already quoted: two answers sharing a sentence must not repeat the report.
    """
    picked = _first_sentences(text, max_words, more_from) if more_from is not None else _sentences(text)[0]
    words = scrub(picked).split()
    picked = _cut_at_clause(" ".join(words[:max_words])) if len(words) > max_words else " ".join(words)
    return f"“{picked.rstrip(' .,;:!?…') or '…'}”"


def scrub(text: str) -> str:
    """Their words without contact details: a report never repeats an email, a phone number or a link."""
    text = EMAIL.sub("", URL.sub("", text))
    return PHONE.sub(lambda m: "" if sum(ch.isdigit() for ch in m.group(0)) >= 8 else m.group(0), text)


def _sentences(text: str) -> list[str]:
    return SENTENCE_END.split(text.strip())


def sentences(text: str) -> list[str]:
    return [part for part in _sentences(text) if part.strip()]


def _first_sentences(text: str, max_words: int, quoted: set[str]) -> str:
    """Sentences not quoted yet, from the first such one (the first sentence when every one was)."""
    every = _sentences(text)
    fresh = [sentence for sentence in every if _key(sentence) not in quoted] or every[:1]
    first, *rest = fresh
    quoted.add(_key(first))
    taken = [first]
    for sentence in rest:
        key = _key(sentence)
        if key in quoted:
            continue
        if len(" ".join([*taken, sentence]).split()) > max_words:
            break
        taken.append(sentence)
        quoted.add(key)
    return " ".join(taken)


def _key(sentence: str) -> str:
    return " ".join(sentence.casefold().split())


def _cut_at_clause(text: str) -> str:
    ends = [m.start() for m in _CLAUSE_END.finditer(text)]
    return text[: ends[-1]] if ends and ends[-1] > len(text) // 3 else text


def clause(text: str, max_words: int = 12) -> str:
    """A short quotation: their first clause (to the first comma or sentence end)."""
    first = _CLAUSE_END.split(_sentences(text)[0])[0]
    return quote(first, max_words)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# --- the parts of the report -----------------------------------------------------------------------------


def _title(person: Person) -> str:
    owner = f"{person.name}'s Reckoning" if person.name else "Your Reckoning"
    return person.voice.title.format(owner=owner, areas=_join(person.focus)) if person.focus else owner


def _summary(person: Person) -> str:
    """Crisis care first; then what they said of their life as a whole, their focus, and the rest of what their
    questionnaire puts in a summary, while the summary keeps to its sentences (a quotation may hold several)."""
    said = [
        person.fill(answer.question.writer.summary, answer, quote_words=SUMMARY_QUOTE_WORDS)
        for answer in person.answers
        if answer.question.writer.summary
    ]
    crisis = [person.voice.crisis_summary] if person.crisis else []
    focus = [person.voice.focus.format(areas=_join(person.focus))] if person.focus else []
    kept: list[str] = []
    for part in crisis + said[:2] + focus + said[2:]:
        if len(sentences(" ".join([*kept, part]))) <= SUMMARY_SENTENCES:
            kept.append(part)
    if len(sentences(" ".join(kept))) < 2:
        kept.insert(0, person.voice.opening)
    return " ".join(kept)


def _closing(person: Person) -> str:
    return person.voice.closing.format(you=f"{person.name}, you" if person.name else "You")


def _section(person: Person, area: str) -> Section:
    answers = [a for a in person.answers if a.question.area == area and a.question.role is None]
    own = person.known_areas[area].writer if area in person.known_areas else Phrasing()
    heading = next((h for a in answers if (h := a.phrasing("heading"))), None) or own.heading
    paragraphs: list[str] = []
    for answer in answers:
        say = answer.question.writer.say or DEFAULT_SAY.get(answer.question.type, "")
        reflection = answer.phrasing("reflection")
        paragraphs += [person.fill(text, answer) for text in (say, reflection) if text]
    if not paragraphs:
        paragraphs.append(f"You chose {person.label(area)} as one of the areas you most want to reckon with.")
    extras = list(own.paragraphs)
    while extras or person.spare:
        if len(paragraphs) >= SECTION_PARAGRAPHS and len(" ".join(paragraphs).split()) >= SECTION_WORDS:
            break
        paragraphs.append(extras.pop(0) if extras else person.spare.pop(0))
    return Section(area=area, heading=heading or f"Making room for {person.label(area)}", body="\n\n".join(paragraphs))


def _next_steps(person: Person) -> list[NextStep]:
    """Crisis care first; then the steps their own words call for, then those their scores and choices call for;
    fallbacks while there are too few; in the order of their horizons."""
    steps = [CRISIS_STEP] if person.crisis else []
    for answer in sorted(person.answers, key=lambda a: not a.words):
        step: NextStep | None = answer.phrasing("step")
        if step:
            steps.append(NextStep(action=person.fill(step.action, answer), why=person.fill(step.why, answer),
                                  horizon=step.horizon))  # fmt: skip
    steps = steps[:MAX_STEPS] + _fallback_steps(person)[: max(0, MIN_STEPS - len(steps))]
    return sorted(steps, key=lambda s: HORIZONS.index(s.horizon))


def _fallback_steps(person: Person) -> list[NextStep]:
    areas = _join([person.label(area) for area in person.focus]) if person.focus else "your life"
    return [
        NextStep(
            action="Write a few lines on what a good year would look like, in concrete terms.",
            why=f"You chose to reckon with {areas}, and a clear picture makes the first step easier to find.",
            horizon="this_week",
        ),
        NextStep(
            action="Pick one small habit that moves you towards that picture and keep it for a month.",
            why="Small, repeated actions change more than one big resolution.",
            horizon="this_month",
        ),
        NextStep(
            action="Set a date a year from now to look back on this report and see what has moved.",
            why="A year is long enough for real change, and short enough to remember where you started.",
            horizon="this_year",
        ),
    ]
