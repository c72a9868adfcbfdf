"""Layer 9 — readability: written in English; short enough sentences and paragraphs, plain words.

Certain: a passage in another language than the report's (English). Style only (lowers confidence, never
blocks): the score loses a fixed amount for each measured excess, so the reason says exactly what to change.
"""

from __future__ import annotations

from reckoning.validation.result import Finding, LayerResult, outcome
from reckoning.validation.subject import Subject
from reckoning.validation.text import STOPWORDS, paragraphs, sentences, words
from reckoning.validation.view import Passage

LAYER = "readability"
MEAN_SENTENCE_WORDS = 24
LONGEST_SENTENCE_WORDS = 50
PARAGRAPH_WORDS = 140
MEAN_WORD_LETTERS = 5.5
LANGUAGE_MIN_WORDS = 20  # a passage this long is judged for its language
ENGLISH_SHARE = 0.22  # English prose has 40-55% function words; other languages share few of them


def check(subject: Subject) -> LayerResult:
    prose = [p for p in subject.view.prose() if p.text.strip()]
    all_sentences = [s for p in prose for s in sentences(p.text)]
    all_words = [w for s in all_sentences for w in words(s)]
    if not all_words:
        return outcome(LAYER, [], ok="no prose to read")
    foreign = [
        Finding(1.0, f"{p.where} is not in English; write the whole report in English") for p in _foreign(subject)
    ]
    mean = len(all_words) / len(all_sentences)
    long_ones = sum(1 for s in all_sentences if len(words(s)) > LONGEST_SENTENCE_WORDS)
    letters = sum(len(w) for w in all_words) / len(all_words)
    findings: list[Finding] = list(foreign)
    if mean > MEAN_SENTENCE_WORDS:
        message = f"sentences average {mean:.0f} words; keep them under {MEAN_SENTENCE_WORDS}"
        findings.append(Finding(min(0.6, 0.05 * (mean - MEAN_SENTENCE_WORDS)), message, kind="style"))
    if long_ones:
        message = f"{long_ones} sentence(s) over {LONGEST_SENTENCE_WORDS} words; split them"
        findings.append(Finding(min(0.6, 0.2 * long_ones), message, kind="style"))
    for passage in prose:
        walls = sum(1 for para in paragraphs(passage.text) if len(words(para)) > PARAGRAPH_WORDS)
        if walls:
            message = f"{passage.where} has a wall of text; break paragraphs over {PARAGRAPH_WORDS} words"
            findings.append(Finding(0.3 * walls, message, kind="style"))
    if letters > MEAN_WORD_LETTERS:
        message = f"words average {letters:.1f} letters; prefer plain, short words"
        findings.append(Finding(min(0.6, letters - MEAN_WORD_LETTERS), message, kind="style"))
    return outcome(LAYER, findings, ok=f"readable: sentences average {mean:.0f} words, words {letters:.1f} letters")


def _foreign(subject: Subject) -> list[Passage]:
    """Passages of running text in which English function words are rare: another language."""
    own = subject.facts.answered_text.casefold()
    found = []
    for passage in subject.view.passages():
        tokens = [w.casefold() for w in words(passage.text)]
        if len(tokens) >= LANGUAGE_MIN_WORDS and passage.text.strip().casefold() not in own:
            if sum(t in STOPWORDS for t in tokens) / len(tokens) < ENGLISH_SHARE:
                found.append(passage)
    return found
