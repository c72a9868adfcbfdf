"""Layer 5 — consistency with the answers: the right name, their numbers, their situation.

Certain: whoever the report speaks to ("Dear X", "X, you…", "That, X, is…", "X — you…",
"X's reckoning", "A reckoning for X") is the person, or a name they wrote themselves.

Suspected, for the judge (a rule cannot tell a quoted score from a suggested one, or a paraphrase
from a contradiction): a score or count the report quotes ("your work at 8/10", "three hours a week
for yourself") that differs from the one they gave; a single choice described as a different option
(money "tight" when they chose "stable"); a job, relation, place or amount the answers contradict or
never mention (`claims`).

The vocabulary (context words per question, synonyms per option) comes from the questionnaire file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from reckoning.models.judgement import Category
from reckoning.models.questionnaire import NumberQuestion, Question, ScaleQuestion
from reckoning.validation import claims
from reckoning.validation.facts import Facts
from reckoning.validation.result import Finding, LayerResult, outcome
from reckoning.validation.subject import Subject
from reckoning.validation.text import (
    GENERIC_WORDS,
    NUMBER_PATTERN,
    STOPWORDS,
    fold_name,
    normalise,
    number_value,
    sentences,
    words,
)
from reckoning.validation.view import ReportView

LAYER = "consistency"

TARGET_REACH = 40  # characters before a number in which "aim", "could reach"… make it a goal
CONTEXT_REACH = 40  # characters between a word about the question ("money") and the words describing the answer
_TARGET = re.compile(
    r"\b(?:aim\w*|target|goal|toward|towards|reach|raise|lift|could|would|might|want\w*|hope\w*|to a|try\w*|"
    r"protect\w*|block\w*|carv\w*|set|give|start\w*|begin|add\w*|extra|another|more|even|just|plan\w*|"
    r"schedul\w*|book\w*|suggest\w*|keep|claim\w*|reclaim\w*|find|next|first|if|by|from|up to|less|fewer)\b",
    re.I,
)
# The report says it is quoting them: "you rated…", "you said…", "your … at".
_QUOTING = re.compile(
    r"\byou(?:'ve| have)? (?:rated|scored|gave|put|said|wrote|told|answered|reported|marked|chose|picked)\b", re.I
)
_APPROX = re.compile(r"\b(?:about|around|roughly|nearly|almost|some|only|under|over)\s*$", re.I)
_NEGATED = re.compile(r"\b(?:not|no longer|never|isn't|aren't|wasn't|n't)\b(?:\s+\w+){0,2}\s*$", re.I)
_CANDIDATE = r"(?P<name>[^\W\d_][\w'-]*)"
# What follows a name said to the reader ("Maria, you…", "Maria, it is…", "That, Maria, is…"): a pronoun or a
# verb, which keeps out lists ("Lisbon, Porto, Faro") and openers ("Free, independent advice…").
_AFTER_VOCATIVE = (
    r"(?:you|your|you're|you've|you'll|you'd|thank|please|this|that|here|there|remember|I|we|it|it's|is|let|be|"
    r"don't|do|look|listen|take|whatever|honestly|trust|believe)\b"
)
ADDRESS_PATTERNS = (
    re.compile(rf"\b(?:Dear|Hi|Hello|Hey|Greetings)\s+{_CANDIDATE}"),
    re.compile(rf"^\W*{_CANDIDATE}(?:,\s+{_AFTER_VOCATIVE}|\s*[\u2014\u2013:]\s+|\s+-\s+)"),  # "Maria, you…"
    re.compile(rf",\s+{_CANDIDATE},\s+{_AFTER_VOCATIVE}"),  # "That, Maria, is…"
    re.compile(rf",\s+{_CANDIDATE}[.!?]\s*$"),  # "…the next step is yours, Maria."
    re.compile(rf",\s+{_CANDIDATE}\s*;\s+{_AFTER_VOCATIVE}"),  # "…the courage for it, Maria; you used it…"
)
TITLE_PATTERNS = (
    re.compile(rf"^\W*{_CANDIDATE}'s\b"),  # "Maria's reckoning"
    re.compile(rf"^\W*(?:For|To|Dear)\s+{_CANDIDATE}"),  # "For Maria: …"
    re.compile(rf"\b(?:for|to)\s+{_CANDIDATE}\s*(?::|$)"),  # "A reckoning for Maria: …"
    re.compile(rf",\s+{_CANDIDATE}(?:,|\s*$|\s*[:\u2014\u2013])"),  # "A reason to get up, Maria, and…"
    re.compile(rf"^\W*{_CANDIDATE},\s"),  # "Maria, 23, and choosing…"
)
# Capitalised words that open sentences or titles without being anyone's name.
NOT_NAMES = frozenset(
    """
    so still yes no now honestly overall first finally together today here right well also then instead again
    however meanwhile perhaps sometimes frankly remember look listen okay ok friend friends reader you this that
    and but or yet truly simply above ultimately practically year summer winter spring autumn fall monday tuesday
    wednesday thursday friday saturday sunday january february march april may june july august september october
    november december life work love home health money family tomorrow tonight everyone someone nobody
    yesterday lately recently clearly ideally obviously importantly sadly happily luckily fortunately
    unfortunately naturally gently equally similarly likewise otherwise besides indeed look listen again
    """.split()
)


def check(subject: Subject) -> LayerResult:
    view, facts = subject.view, subject.facts
    findings = _addressee(view, facts) + _numbers(view, facts) + _choices(view, facts) + claims.suspicions(view, facts)
    return outcome(LAYER, findings, ok="names, numbers and choices agree with the answers")


def _addressee(view: ReportView, facts: Facts) -> list[Finding]:
    # A capitalised word the report also writes in lower case ("Sleep: …" beside "sleep") is no name.
    common = {w.casefold() for w in words(view.full_text()) if w[0].islower()}
    own = {fold_name(w) for w in facts.name_words}
    for where, name, strict in _addressed_names(view):
        folded = fold_name(name)
        if folded in NOT_NAMES or name.casefold() in STOPWORDS | GENERIC_WORDS | common or not name[0].isupper():
            continue
        # Given a name, the title and a greeting use it (another name in their answers is someone else's);
        # mid-sentence, a name they wrote may be the person spoken of ("That, Priya, is a mentor…").
        allowed = own if own and strict else facts.known_names
        if not any(_same_name(folded, known) for known in allowed):
            whose = "a name that is not theirs" if facts.name_words else "a name they never gave"
            return [Finding(1.0, f"{where} addresses the person by {whose}; use their own name or none")]
    return []


def _same_name(a: str, b: str) -> bool:
    # Nicknames are usually prefixes ("Alex" for "Alexandra").
    return a == b or (min(len(a), len(b)) >= 3 and (a.startswith(b) or b.startswith(a)))


def _addressed_names(view: ReportView) -> Iterator[tuple[str, str, bool]]:
    """Names the report speaks to, in the title or said to the reader anywhere, and whether the place is one
    (the title, a greeting, a sentence's opening) where only their own name belongs."""
    for pattern in TITLE_PATTERNS:
        for match in pattern.finditer(normalise(view.title)):
            yield "the title", match.group("name"), True
    for passage in view.passages():
        for paragraph in normalise(passage.text).split("\n"):
            for sentence in sentences(paragraph):
                for n, pattern in enumerate(ADDRESS_PATTERNS):
                    for match in pattern.finditer(sentence):
                        yield passage.where, match.group("name"), n == 0 or passage.where == "the title"


def _numbers(view: ReportView, facts: Facts) -> list[Finding]:
    return [
        Finding(
            _strength(sentence),
            f"{passage.where} quotes {quoted:g} for {qid}, but the answer was {actual:g}",
            kind="suspicion",
            category=Category.CONTRADICTION,
            quote=sentence,
        )
        for passage in view.passages()
        for sentence in sentences(passage.text)
        for qid, quoted, actual in _misquotes(normalise(sentence), facts)
    ]


def _strength(sentence: str) -> float:
    """Sure when the sentence quotes them and holds one number; a lead only when several numbers share it."""
    bare = re.sub(rf"\b{NUMBER_PATTERN}\s*(?:/|out of)\s*{NUMBER_PATTERN}\b", " N ", sentence, flags=re.I)
    several = len(re.findall(rf"\b{NUMBER_PATTERN}\b", bare, re.I)) + bare.count(" N ") > 1
    return 0.35 if several else (0.9 if _QUOTING.search(sentence) else 0.6)


def _misquotes(sentence: str, facts: Facts) -> Iterator[tuple[str, float, float]]:
    for match, scale_max in _quoted_numbers(sentence, facts):
        if _TARGET.search(sentence[max(0, match.start() - TARGET_REACH) : match.start()]):
            continue  # "aim for a 7/10" is a goal, not a quote
        qid = _nearest_question(sentence, match.start(), scale_max, facts)
        if qid is None:
            continue
        actual, _ = facts.scales[qid]
        quoted = number_value(match.group(1))
        approximate = bool(_APPROX.search(sentence[: match.start()]))
        tolerance = max(0.5, 0.25 * actual) if approximate else 0.5
        if quoted is None or f"{quoted:g}" in re.findall(r"\d+(?:\.\d+)?", facts.answered_text):
            continue  # a figure they wrote themselves ("58 hours a week")
        if abs(quoted - actual) > tolerance and not _any_answer(sentence, quoted, scale_max, facts):
            yield qid, quoted, actual


def _any_answer(sentence: str, quoted: float, scale_max: float | None, facts: Facts) -> bool:
    """The number is the answer to some question the sentence speaks of: a sentence holding several subjects
    attributes each number to its own, whichever context word happens to sit nearest."""
    return any(
        abs(value - quoted) <= 0.5 and _context(question).search(sentence)
        for value, question in facts.scales.values()
        if (scale_max is None) == isinstance(question, NumberQuestion) and scale_max in (None, question.max)
    )


def _quoted_numbers(sentence: str, facts: Facts) -> Iterator[tuple[re.Match[str], float | None]]:
    """Numbers quoted as scores ("4/10", "four out of ten": with their maximum) or as counts ("3 hours")."""
    for match in re.finditer(rf"\b{NUMBER_PATTERN}\s*(?:/|out of)\s*{NUMBER_PATTERN}\b", sentence, re.I):
        yield match, number_value(match.group(2))
    units = {_unit(q) for _, q in facts.scales.values() if isinstance(q, NumberQuestion)}
    for unit in sorted(u for u in units if u):
        for match in re.finditer(rf"\b{NUMBER_PATTERN}\s+{unit}s?\b", sentence, re.I):
            yield match, None


def _unit(question: ScaleQuestion | NumberQuestion) -> str | None:
    match = re.search(r"\bhow many (\w+?)s?\b", question.prompt, re.I)
    return match.group(1) if match else None


def _nearest_question(sentence: str, at: int, scale_max: float | None, facts: Facts) -> str | None:
    """The question whose context words sit closest to the quoted number in this sentence.

    A score ("n/10") can only answer a scale with that maximum; a count only a number question.
    """
    hits = [
        (abs(hit.start() - at), qid)
        for qid, (_, question) in facts.scales.items()
        if (scale_max is None) == isinstance(question, NumberQuestion) and scale_max in (None, question.max)
        for hit in _context(question).finditer(sentence)
    ]
    return min(hits, key=lambda hit: hit[0])[1] if hits else None  # the first of the nearest


def _context(question: Question) -> re.Pattern[str]:
    """Where a sentence speaks of the question: its context words (prefixes), else its area's name."""
    words = question.context_words or (question.area,)
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + ")", re.I)


def _choices(view: ReportView, facts: Facts) -> list[Finding]:
    """A sentence about the question that describes another option than the chosen one ("money is tight")."""
    findings: list[Finding] = []
    for qid, (chosen, question) in facts.choices.items():
        options = {option.value: option.synonyms for option in question.options if option.synonyms}
        if chosen not in options:
            continue
        context = _context(question)
        for passage in view.passages():
            for sentence in sentences(passage.text):
                if other := _other_option(normalise(sentence), context, options, chosen):
                    message = f"{passage.where} describes {qid} as '{other}', but they chose '{chosen}'"
                    findings.append(Finding(0.6, message, "suspicion", Category.CONTRADICTION, sentence))
    return findings


def _other_option(
    sentence: str, context: re.Pattern[str], options: dict[str, tuple[str, ...]], chosen: str
) -> str | None:
    near = [m.start() for m in context.finditer(sentence)]
    if not near or _mentions(sentence, options[chosen], near):
        return None
    for option, phrases in options.items():
        if option != chosen and _mentions(sentence, phrases, near):
            return option
    return None


def _mentions(sentence: str, phrases: tuple[str, ...], context: list[int]) -> bool:
    """A phrase used, not negated, within a few words of a word about the question."""
    for phrase in phrases:
        for hit in re.finditer(rf"\b{re.escape(phrase)}\b", sentence, re.I):
            near = any(abs(hit.start() - at) <= CONTEXT_REACH for at in context)
            if near and not _NEGATED.search(sentence[: hit.start()]):
                return True
    return False
