"""A deterministic report writer for local runs with no Anthropic key.

It composes the report from the person's own answers: their words quoted,
their scores and choices stated exactly, one section per chosen life area (and
per area they wrote about in their own words), next steps tied to what they
said. Same answers, same report. It is a stand-in that must still pass the
validator, not a substitute for Claude's judgement.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from reckoning.models.questionnaire import ChoiceQuestion, NumberQuestion, ScaleQuestion, TextQuestion
from reckoning.models.report import NextStep, Report, Section
from reckoning.models.submission import Submission
from reckoning.providers.prompt import area_labels, focus_areas
from reckoning.providers.writer import Draft
from reckoning.validation.layers.privacy import EMAIL, PHONE, URL
from reckoning.validation.layers.safety import CRISIS

MODEL = "offline-writer"
MAX_STEPS = 7
MIN_SECTIONS = 3

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”\u2019»)\]]*\s+")
_CLAUSE_END = re.compile(r"[,;:\u2013\u2014]\s")
_WORK_WORDS = re.compile(r"\b(work|job|career|manager|boss|team|office|business|colleague|promotion)", re.I)
_BODY_WORDS = re.compile(r"\b(run|ran|marathon|race|train|gym|swim|cycl|walk|hike|climb|yoga|fitness|sport)", re.I)
_DISTANCE_WORDS = re.compile(r"\b(distant|drift|lonely|alone|argu|fight|logistic|apart|strain|tense|miss)", re.I)


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
    answers = Answers(submission)
    report = Report(
        title=_title(answers),
        summary=_summary(answers),
        sections=[section for area in answers.areas() if (section := _section(answers, area))],
        next_steps=_next_steps(answers),
        closing=_closing(answers),
    )
    return report.model_dump(by_alias=True)


class Answers:
    """Typed access to one person's answers."""

    def __init__(self, submission: Submission) -> None:
        self.submission = submission
        self.name = (submission.name or "").strip() or None
        self.labels = area_labels(submission.questionnaire)
        self.focus = [area for area in focus_areas(submission) if area in self.labels]
        texts = [v for v in submission.answers.values() if isinstance(v, str)]
        # The validator's own test for crisis language: whatever it would look for, this report answers.
        self.crisis = any(CRISIS.search(text) for text in texts)
        self._repeats = _repeated_answers(submission)
        self.quoted: set[str] = set()  # sentences of theirs already quoted beyond a first sentence

    def text(self, question_id: str) -> str | None:
        question = self.submission.questionnaire.question(question_id)
        value = self.submission.answers.get(question_id)
        if isinstance(question, TextQuestion) and isinstance(value, str) and value.strip():
            return None if question_id in self._repeats else " ".join(value.split())
        return None

    def score(self, question_id: str) -> tuple[str, str, float] | None:
        """(value, scale maximum, position on the scale in 0..1) as they would be written."""
        question = self.submission.questionnaire.question(question_id)
        value = self.submission.answers.get(question_id)
        if not isinstance(question, ScaleQuestion | NumberQuestion) or not isinstance(value, int | float):
            return None
        span = (question.max - question.min) or 1
        return f"{value:g}", f"{question.max:g}", (value - question.min) / span

    def choice(self, question_id: str) -> tuple[str, str] | None:
        """(value, label) of a single-choice answer."""
        question = self.submission.questionnaire.question(question_id)
        value = self.submission.answers.get(question_id)
        if isinstance(question, ChoiceQuestion):
            label = next((o.label for o in question.options if o.value == value), None)
            if label is not None and isinstance(value, str):
                return value, label
        return None

    def areas(self) -> list[str]:
        """The chosen areas, then other areas they wrote about in their own words, then (while the report
        would be thin) areas they only scored or chose an option for."""
        chosen = list(self.focus)
        questions = [q for q in self.submission.questionnaire.questions if q.area in _BUILDERS]
        for question in questions:
            if isinstance(question, TextQuestion) and question.area not in chosen and self.text(question.id):
                chosen.append(question.area)
        for question in questions:
            if len(chosen) < MIN_SECTIONS and question.area not in chosen and self.answered(question.id):
                chosen.append(question.area)
        return chosen

    def answered(self, question_id: str) -> bool:
        return bool(self.text(question_id) or self.score(question_id) or self.choice(question_id))

    def label(self, area: str) -> str:
        return _lower_first(self.labels.get(area, area))


def _repeated_answers(submission: Submission) -> frozenset[str]:
    """Text answers that repeat an earlier one word for word: quoting them twice would only repeat the report."""
    seen: set[str] = set()
    repeats: set[str] = set()
    for question in submission.questionnaire.questions:
        value = submission.answers.get(question.id)
        if isinstance(question, TextQuestion) and isinstance(value, str) and value.strip():
            key = " ".join(value.casefold().split())
            if key in seen:
                repeats.add(question.id)
            seen.add(key)
    return frozenset(repeats)


# --- quoting ---------------------------------------------------------------------------------------------


def quote(text: str, max_words: int = 30, *, more_from: set[str] | None = None) -> str:
    """Their words in quotation marks: the first sentence, cut at a clause when long.

    With `more_from` (the sentences quoted so far, updated here), further sentences follow up to
    `max_words`, leaving out any already quoted: two answers sharing a sentence must not repeat the report.
    """
    text = scrub(text)
    picked = _first_sentences(text, max_words, more_from) if more_from is not None else _sentences(text)[0]
    words = picked.split()
    if len(words) > max_words:
        picked = _cut_at_clause(" ".join(words[:max_words]))
    return f"“{picked.rstrip(' .,;:!?…')}”"


def scrub(text: str) -> str:
    """Their words without contact details: a report never repeats an email, a phone number or a link."""
    text = EMAIL.sub("…", URL.sub("…", text))
    return PHONE.sub(lambda m: "…" if sum(ch.isdigit() for ch in m.group(0)) >= 8 else m.group(0), text)


def _sentences(text: str) -> list[str]:
    return _SENTENCE_END.split(text.strip())


def _first_sentences(text: str, max_words: int, quoted: set[str]) -> str:
    first, *rest = _sentences(text)
    taken = [first]
    for sentence in rest:
        key = " ".join(sentence.casefold().split())
        if key in quoted:
            continue
        if len(" ".join([*taken, sentence]).split()) > max_words:
            break
        taken.append(sentence)
        quoted.add(key)
    return " ".join(taken)


def _cut_at_clause(text: str) -> str:
    ends = [m.start() for m in _CLAUSE_END.finditer(text)]
    return text[: ends[-1]] if ends and ends[-1] > len(text) // 3 else text


def clause(text: str, max_words: int = 12) -> str:
    """A short quotation: their first clause (to the first comma or sentence end)."""
    first = _CLAUSE_END.split(_sentences(text)[0])[0]
    return quote(first, max_words)


def _short_name(area: str) -> str:
    return "rest and play" if area == "play" else area


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _level(position: float) -> str:
    return "low" if position < 0.4 else "high" if position >= 0.75 else "mid"


# --- title, summary, closing -----------------------------------------------------------------------------


def _title(answers: Answers) -> str:
    owner = f"{answers.name}'s Reckoning" if answers.name else "Your Reckoning"
    return f"{owner}: {_join(answers.focus)}" if answers.focus else owner


def _summary(answers: Answers) -> str:
    sentences = [_opening_sentence(answers)]
    if answers.crisis:
        sentences.append(
            "What you wrote suggests you may be in a lot of pain right now, so before anything else, please reach "
            "out for support today: your local emergency number if you are in danger, or a crisis line, your "
            "doctor or someone you trust."
        )
    if answers.focus:
        areas = _join([_short_name(area) for area in answers.focus])
        sentences.append(f"You chose to reckon with {areas}, and this report takes each in turn.")
    change = answers.text("change_one_thing")
    if change and not answers.crisis:
        sentences.append(f"What you most want to change is clear: {quote(change, 20)}.")
    return " ".join(sentences)


def _opening_sentence(answers: Answers) -> str:
    overall, described = answers.score("life_overall"), answers.text("one_sentence")
    if overall and described:
        return (
            f"You rated your life as a whole {overall[0]} out of {overall[1]}, "
            f"and described where it stands as {quote(described, 25)}."
        )
    if overall:
        return f"You rated your life as a whole {overall[0]} out of {overall[1]}."
    if described:
        return f"You described where your life stands as {quote(described, 25)}."
    return "This report reflects on where your life stands, in your own words."


def _closing(answers: Answers) -> str:
    if answers.crisis:
        return (
            "Please start with the first step: reaching out for support. Everything else in this report can "
            "wait until you are not carrying this alone, and it will still be here when you are ready."
        )
    opener = f"{answers.name}, you" if answers.name else "You"
    return (
        f"{opener} answered with more honesty than most people manage, and that honesty is where change starts. "
        "Begin with the smallest step on the list, and let the larger ones follow."
    )


# --- sections --------------------------------------------------------------------------------------------


def _section(answers: Answers, area: str) -> Section | None:
    builder = _BUILDERS.get(area, _other_section)
    built = builder(answers, area)
    if built is None:
        return None
    heading, paragraphs = built
    return Section(area=area, heading=heading, body="\n\n".join(p for p in paragraphs if p))


Built = tuple[str, list[str]] | None

_WORK_HEADINGS = {
    "low": "Work that costs more than it gives",
    "mid": "Work that is fine, but not yet yours",
    "high": "Work that feeds you",
}
_WORK_REFLECTIONS = {
    "low": "A score that low, held for long, tends to leak into energy, mood and the time left for anything "
    "else. Treat it as information rather than as a personal failing: something about the work itself, or "
    "your place in it, does not fit.",
    "mid": "A middling score is easy to live with, which is exactly why it can stay unchanged for years. The "
    "useful question is not whether work is bad, but whether the parts you enjoy are growing or shrinking.",
    "high": "That is a real asset. The task here is less to fix anything than to protect what works, and to "
    "notice what it asks of the rest of your life.",
}


def _work_section(answers: Answers, area: str) -> Built:
    score = answers.score("work_satisfaction")
    level = _level(score[2]) if score else "mid"
    facts = f"You rated how fulfilling your work is at {score[0]} out of {score[1]}." if score else ""
    change, avoiding = answers.text("change_one_thing"), answers.text("avoiding")
    if change and _WORK_WORDS.search(change):
        facts += f" It is also where the one change you named points: {clause(change)}."
    elif avoiding and _WORK_WORDS.search(avoiding):
        facts += f" It also sits behind what you have been avoiding: {clause(avoiding)}."
    if not facts:
        facts = f"You chose {answers.label(area)} as one of the areas you most want to reckon with."
    question = (
        "A question worth sitting with: which hours of your working week give you energy, and which take it "
        "away? The answer usually points more precisely at what needs to change than any job title does."
    )
    return _WORK_HEADINGS[level], [facts.strip(), _WORK_REFLECTIONS[level], question]


_HEALTH_HEADINGS = {
    "low": "Running low on energy",
    "mid": "Energy that gets you through, just",
    "high": "Energy you can build on",
}
_HEALTH_REFLECTIONS = {
    "low": "Energy this low affects everything else in this report, so it deserves attention first, without "
    "judgement. Sleep, movement, food and stress are the usual places to look. If low energy has lasted for "
    "weeks or came on without a clear reason, a doctor is the right person to talk to, because it can have "
    "causes worth ruling out.",
    "mid": "Middling energy is often the sum of small things: late nights, little movement in the working day, "
    "and few breaks that actually restore you. Notice which days are better, and what was different about them.",
    "high": "Good energy is the fuel for every other change you want, so protect it deliberately when things "
    "get busy rather than trading it away first.",
}


def _health_section(answers: Answers, area: str) -> Built:
    score = answers.score("health_energy")
    level = _level(score[2]) if score else "mid"
    facts = f"You put your day-to-day energy at {score[0]} out of {score[1]}." if score else ""
    proud = answers.text("proud_of")
    if proud and _BODY_WORDS.search(proud):
        facts += (
            " And the achievement you are proudest of this year is a physical one, which says your body can do "
            "a great deal when it has a reason to."
        )
    if not facts:
        facts = f"You chose {answers.label(area)} as one of the areas you most want to reckon with."
    habits = (
        "Energy is also where small, unremarkable changes pay back fastest: a regular bedtime, a walk in "
        "daylight, a meal not eaten at a desk. None of it is dramatic, and all of it adds up."
    )
    return _HEALTH_HEADINGS[level], [facts.strip(), _HEALTH_REFLECTIONS[level], habits]


_MONEY_HEADINGS = {
    "struggling": "Money that does not stretch far enough",
    "tight": "Getting by, with little room to spare",
    "stable": "Stable ground with money",
}
_MONEY_PRESSURE = (
    "Money pressure narrows every other choice and takes up a great deal of mental room. You do not have to "
    "work it out alone: a free, independent money advice service or a qualified financial adviser can help you "
    "see your options clearly."
)
_MONEY_REFLECTIONS = {
    "struggling": _MONEY_PRESSURE,
    "tight": _MONEY_PRESSURE,
    "stable": "Stability is a good base. It is worth asking what that margin is for, and whether it could buy "
    "you time or room for the change you most want.",
}
_MONEY_EASY = (
    "With money not the main constraint, the question becomes what it could make easier: time, help, or room "
    "to try something new. For specific decisions, a qualified, independent financial adviser is the right "
    "person to ask."
)


def _money_section(answers: Answers, area: str) -> Built:
    choice = answers.choice("money_situation")
    if choice is None:
        return _other_section(answers, area)
    value, label = choice
    heading = _MONEY_HEADINGS.get(value, "Money as a resource, not a worry")
    facts = f"You describe your finances as “{_lower_first(label)}”."
    numbers = (
        "Money also decides how much risk a change can carry. Knowing your own figures, what a month costs you "
        "and how long you could manage if income changed, turns vague worry or vague comfort into something "
        "you can plan with."
    )
    return heading, [facts, _MONEY_REFLECTIONS.get(value, _MONEY_EASY), numbers]


def _relationships_section(answers: Answers, area: str) -> Built:
    state, support = answers.text("relationships_state"), answers.text("support")
    if state:
        facts = f"Asked how your closest relationships are really going, you wrote: {quote(state, 40)}."
    else:
        facts = "You said little about your closest relationships, which may itself be worth a moment's thought."
    if state and _DISTANCE_WORDS.search(state):
        reflection = (
            "There is honesty in that. Distance in a close relationship rarely comes from one big rupture; it "
            "usually grows in the space where everyday logistics crowd out real conversation. Naming it, as you "
            "have, is often the first step to closing it."
        )
    else:
        reflection = (
            "Relationships like these carry a lot of weight in how a life feels, often more than work or money. "
            "It is worth asking which of them you are actively tending and which you are taking for granted."
        )
    helper = (
        "Think about which of the people closest to you you could be more open with about what you want to "
        "change. Those nearest to us are often the last to hear it."
    )
    if support:
        helper = (
            f"When asked who could help you make a change, you named {quote(support)}. Take that seriously: "
            "support that already exists is far easier to use than support you would have to find."
        )
    return "The people who matter most", [facts, reflection, helper]


_PLAY_HEADINGS = {
    "low": "Very little time that is just yours",
    "mid": "Time for yourself, worth guarding",
    "high": "Time that is yours",
}
_PLAY_REFLECTIONS = {
    "low": "That is very little. Rest and play are not rewards for finishing everything else; they are part of "
    "what makes the rest sustainable, and without them even good changes tend to stall.",
    "mid": "That time is easy to lose when weeks get busy. Treat it as an appointment rather than as whatever "
    "is left over.",
    "high": "That is a generous amount of time for yourself. The question is whether it restores you, or simply "
    "fills the gaps.",
}


def _play_section(answers: Answers, area: str) -> Built:
    hours = answers.score("hours_for_yourself")
    if hours is None:
        return _other_section(answers, area)
    level = _hours_level(float(hours[0]))
    facts = f"In a typical week you spend about {hours[0]} hours on things that are just for you."
    notice = (
        "It may help to notice what you actually do with that time, and how you feel afterwards. Time that "
        "restores you is worth protecting first; time that only numbs the week is worth trading for something "
        "better."
    )
    return _PLAY_HEADINGS[level], [facts, _PLAY_REFLECTIONS[level], notice]


def _hours_level(hours: float) -> str:
    return "low" if hours < 5 else "mid" if hours < 15 else "high"


def _growth_section(answers: Answers, area: str) -> Built:
    proud = answers.text("proud_of")
    if proud is None:
        return _other_section(answers, area)
    quoted = quote(proud, 40, more_from=answers.quoted)
    return "What you have already proved", [
        f"Asked what you are most proud of from the past year, you wrote: {quoted}.",
        "Hold on to that. It is evidence, in your own words, that you can follow through on something that "
        "matters to you, and the same qualities are the ones the changes in this report will need.",
        "It is worth asking yourself what made it possible: the reason you cared, the routine that carried you, "
        "the people around you. Whatever it was, you can borrow it for what comes next.",
    ]


_MONEY_AT_EASE = frozenset({"stable", "comfortable", "abundant"})
_OBSTACLE_NOTES = {
    "fear": "Fear tends to shrink when the next step is small and specific, which is why the steps at the end "
    "of this report start small.",
    "time": "When time is the constraint, the answer is rarely more effort; it is deciding what to stop.",
    "money": "Money is a real constraint; it is worth separating what truly costs money from what only feels "
    "as if it does.",
    "energy": "With low energy, order matters: the first changes should give energy back rather than demand more.",
    "others": "Putting other people first is generous, and it only lasts if your own needs get a turn too.",
    "unclear": "Not knowing where to start is common, and the cure is usually a smaller first step than feels "
    "worthwhile.",
}


def _purpose_section(answers: Answers, area: str) -> Built:
    avoiding, change = answers.text("avoiding"), answers.text("change_one_thing")
    if not (avoiding or change):
        return _other_section(answers, area)
    paragraphs = []
    if avoiding:
        paragraphs.append(
            f"You were candid about what you have been avoiding: {quote(avoiding, 40, more_from=answers.quoted)}."
        )
    if change:
        paragraphs.append(
            f"And the one change you would make in the coming year is this: {quote(change, 40)}. "
            "Look at how these answers relate: what we avoid is very often what stands between us and what "
            "we want, which makes the avoidance less a side issue than the door."
        )
    else:
        paragraphs.append(
            "It may help to name what you want instead, in one plain sentence, and to keep it somewhere you will "
            "see it: avoidance loses much of its pull once the alternative is written down."
        )
    obstacle = answers.choice("main_obstacle")
    if obstacle:
        note = _OBSTACLE_NOTES.get(obstacle[0], "")
        paragraphs.append(f"You said what most often gets in the way is “{_lower_first(obstacle[1])}”. {note}")
    money = answers.choice("money_situation")
    if money and money[0] in _MONEY_AT_EASE and (obstacle is None or obstacle[0] != "money"):
        paragraphs.append(
            f"Money, which you describe as “{_lower_first(money[1])}”, is not what stands in the way, and that is "
            "worth remembering when the change starts to feel risky."
        )
    return "What you are avoiding, and what you want instead", paragraphs


_OTHER_REFLECTIONS = {
    "family": (
        "Family ties tend to run on old patterns, and a year is long enough to change one of them. It is worth "
        "writing down, for yourself, which conversation or habit you would most like to be different.",
        "It is also worth thinking about how the change you most want would land with your family. Some may be "
        "allies you have not yet asked; some may need time to get used to it.",
    ),
    "friends": (
        "Friendships rarely end in a quarrel; more often they fade for lack of time. It is worth asking which of "
        "them you would be sorry to lose, and what it would take to show up for them.",
        "Friends are also often the first people to notice when something in your life shifts, so they can be a "
        "quiet source of honesty and encouragement for the change you want.",
    ),
    "home": (
        "Where you live shapes your days more than it seems to. It is worth noticing what in your surroundings "
        "drains you and what would make home feel like somewhere you recover.",
        "Small changes at home, such as one corner kept for the things you care about or one evening routine "
        "that is yours, can make the bigger changes elsewhere easier to carry.",
    ),
    "growth": (
        "Growth rarely announces itself; it shows up later, when something that used to be hard has become "
        "ordinary. It is worth naming one thing you would like to be able to do a year from now that you cannot "
        "do today.",
        "Learning also needs room: a regular slot in the week, however small, does more than a burst of "
        "enthusiasm that the next busy month crowds out.",
    ),
    "purpose": (
        "A sense of purpose is less often found than built, out of small choices that point the same way. It is "
        "worth asking which of your weekly habits already point where you want to go, and which pull against it.",
        "If the word feels too grand, try a smaller question: what would you like to have more of in your days, "
        "and what would you happily have less of?",
    ),
}
_OTHER_DEFAULT = (
    "Your answers say less about this area than about others, and that gap can be telling: what we most want to "
    "reckon with is sometimes what we find hardest to put into words. It is worth writing down, for yourself, "
    "what a good year here would look like.",
    "It is also worth asking how the change you most want would touch this part of your life, for better or "
    "worse. Big changes rarely stay in one area, and planning for that makes them easier to sustain.",
)


def _other_section(answers: Answers, area: str) -> Built:
    facts = f"You chose {answers.label(area)} as one of the areas you most want to reckon with."
    state = answers.text("relationships_state")
    if state and area in {"family", "friends"}:
        facts += f" What you wrote about the people who matter most belongs here too: {quote(state)}."
    heading = f"Making room for {answers.label(area)}"
    return heading, [facts, *_OTHER_REFLECTIONS.get(area, _OTHER_DEFAULT)]


_BUILDERS: dict[str, Callable[[Answers, str], Built]] = {
    "work": _work_section,
    "health": _health_section,
    "money": _money_section,
    "relationships": _relationships_section,
    "play": _play_section,
    "growth": _growth_section,
    "purpose": _purpose_section,
}


# --- next steps ------------------------------------------------------------------------------------------


def _next_steps(answers: Answers) -> list[NextStep]:
    candidates = [
        _crisis_step(answers),
        _avoiding_step(answers),
        _change_step(answers),
        _support_step(answers),
        _health_step(answers),
        _play_step(answers),
        _money_step(answers),
    ]
    steps = [step for step in candidates if step][: MAX_STEPS - 1]
    steps += _fallback_steps(answers)[: max(0, 2 - len(steps))]
    steps.append(_revisit_step(answers))
    return steps


def _crisis_step(answers: Answers) -> NextStep | None:
    if not answers.crisis:
        return None
    return NextStep(
        action="Reach out for support today: if you are in danger, call your local emergency number now; "
        "otherwise contact a crisis line, your doctor or a mental health professional, or tell someone you "
        "trust how you are feeling.",
        why="What you wrote deserves care and a real conversation, not only a report, and you do not have to "
        "carry it alone.",
        horizon="this_week",
    )


def _avoiding_step(answers: Answers) -> NextStep | None:
    avoiding = answers.text("avoiding")
    if avoiding is None:
        return None
    return NextStep(
        action="Take the first small step on what you have been avoiding: write down the conversation or task "
        "it starts with, and put a time for it in your diary.",
        why=f"You said you have been avoiding {clause(avoiding)}, and a step small enough to take this week "
        "breaks the habit of putting it off.",
        horizon="this_week",
    )


def _change_step(answers: Answers) -> NextStep | None:
    change = answers.text("change_one_thing")
    if change is None:
        return None
    return NextStep(
        action="Turn the change you named into a plan on one page: what it would look like in a year, what the "
        "first month needs, and who could help.",
        why=f"The one thing you would change is {clause(change)}, and a written plan makes it real.",
        horizon="this_month",
    )


def _support_step(answers: Answers) -> NextStep | None:
    support = answers.text("support")
    if support is None:
        return None
    return NextStep(
        action="Ask the person you named as support for a conversation about the change you want to make.",
        why=f"You named {clause(support)} as someone who could help, and asking is a small step with a large payoff.",
        horizon="this_month",
    )


def _health_step(answers: Answers) -> NextStep | None:
    energy = answers.score("health_energy")
    if energy is None or _level(energy[2]) == "high":
        return None
    return NextStep(
        action="For the next few weeks, note your sleep, movement and energy each evening and look for the "
        "pattern; if low energy persists, book a check-up with your doctor.",
        why=f"You rated your energy {energy[0]} out of {energy[1]}, and every other change depends on it.",
        horizon="this_month",
    )


def _play_step(answers: Answers) -> NextStep | None:
    hours = answers.score("hours_for_yourself")
    if hours is None or _hours_level(float(hours[0])) != "low":
        return None
    return NextStep(
        action="Block out time in your calendar this week that is only for you, and protect it like any other "
        "appointment.",
        why=f"You spend about {hours[0]} hours a week on things that are just for you, which leaves little to "
        "recover with.",
        horizon="this_week",
    )


def _money_step(answers: Answers) -> NextStep | None:
    money = answers.choice("money_situation")
    if money is None or money[0] not in {"struggling", "tight"}:
        return None
    return NextStep(
        action="Get free, independent advice on your finances from a money advice service or a qualified adviser.",
        why=f"You described your finances as “{_lower_first(money[1])}”, and clear information makes hard "
        "choices easier.",
        horizon="this_month",
    )


def _fallback_steps(answers: Answers) -> list[NextStep]:
    areas = _join([answers.label(area) for area in answers.focus]) if answers.focus else "your life"
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
    ]


def _revisit_step(answers: Answers) -> NextStep:
    overall = answers.score("life_overall")
    why = "A year from now you will know whether the changes you chose moved things."
    if overall:
        why = (
            f"Today you rated your life {overall[0]} out of {overall[1]}; a year from now you will know whether "
            "the changes you chose moved it."
        )
    return NextStep(
        action="Set a date a year from now to answer these questions again, and compare honestly with today.",
        why=why,
        horizon="this_year",
    )
