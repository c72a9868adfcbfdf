"""Layer 10 — repetition: nothing said twice — sentences, paragraphs, next steps, or looping phrasing."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

from reckoning.validation.result import Finding, Kind, LayerResult, outcome
from reckoning.validation.subject import Subject
from reckoning.validation.text import STOPWORDS, paragraphs, sentences, words
from reckoning.validation.view import ReportView

LAYER = "repetition"
MIN_SENTENCE_WORDS = 6
MIN_PARAGRAPH_WORDS = 15
STEP_OVERLAP = 0.7
NGRAM = 4
NGRAM_REPEAT_RATIO = 0.08
NEAR_DUPLICATE = 0.7


def check(subject: Subject) -> LayerResult:
    view = subject.view
    prose = "\n\n".join(p.text for p in view.prose())
    findings = _repeated(prose) + _same_steps(view) + _looping(prose)
    return outcome(LAYER, findings, ok="nothing repeated")


def _key(text: str) -> tuple[str, ...]:
    return tuple(w.casefold() for w in words(text))


def _repeated(prose: str) -> list[Finding]:
    paras = Counter(k for k in map(_key, paragraphs(prose)) if len(k) >= MIN_PARAGRAPH_WORDS)
    findings = [Finding(1.0, "a paragraph appears more than once") for times in paras.values() if times > 1]
    findings += _near_duplicates([k for k in map(_key, paragraphs(prose)) if len(k) >= MIN_PARAGRAPH_WORDS])
    lines = Counter(k for k in map(_key, sentences(prose)) if len(k) >= MIN_SENTENCE_WORDS)
    repeated = sum(times - 1 for times in lines.values() if times > 1)
    if repeated:
        kind: Kind = "certain" if repeated >= 2 else "style"
        findings.append(Finding(0.3 * repeated, f"{repeated} sentence(s) repeated word for word", kind=kind))
    return findings


def _near_duplicates(paras: list[tuple[str, ...]]) -> list[Finding]:
    """Paragraphs that say nearly the same thing in nearly the same words (most of their 3-word runs shared)."""
    grams = [{p[i : i + 3] for i in range(len(p) - 2)} for p in paras]
    for (i, a), (j, b) in combinations(enumerate(grams), 2):
        if a and b and paras[i] != paras[j] and len(a & b) / min(len(a), len(b)) >= NEAR_DUPLICATE:
            return [Finding(1.0, "two paragraphs say nearly the same thing in the same words; write each once")]
    return []


def _same_steps(view: ReportView) -> list[Finding]:
    findings: list[Finding] = []
    steps = [{w for w in _key(s.action) if w not in STOPWORDS} for s in view.next_steps]
    for (i, a), (j, b) in combinations(enumerate(steps, start=1), 2):
        if a and b and len(a & b) / len(a | b) >= STEP_OVERLAP:
            findings.append(Finding(1.0, f"next steps {i} and {j} say the same thing"))
    return findings


def _looping(prose: str) -> list[Finding]:
    """Share of four-word sequences that occur again: high when the text circles back on itself."""
    tokens = [w.casefold() for w in words(prose)]
    grams = [tuple(tokens[i : i + NGRAM]) for i in range(len(tokens) - NGRAM + 1)]
    if len(grams) < 50:
        return []
    ratio = 1 - len(set(grams)) / len(grams)
    if ratio <= NGRAM_REPEAT_RATIO:
        return []
    penalty = min(0.8, 4 * (ratio - NGRAM_REPEAT_RATIO))
    return [Finding(penalty, f"{ratio:.0%} of the phrasing repeats; vary it", kind="style")]
