"""Layer 9 — readability: short enough sentences and paragraphs, plain words, no walls of text.

The score starts at 1 and loses a fixed amount for each measured excess, so the
reason says exactly what to change.
"""

from __future__ import annotations

from reckoning.validation.result import Finding, LayerResult, judge
from reckoning.validation.subject import Subject
from reckoning.validation.text import paragraphs, sentences, words

LAYER = "readability"
MEAN_SENTENCE_WORDS = 24
LONGEST_SENTENCE_WORDS = 50
PARAGRAPH_WORDS = 140
MEAN_WORD_LETTERS = 5.5


def check(subject: Subject) -> LayerResult:
    prose = [p for p in subject.view.prose() if p.text.strip()]
    all_sentences = [s for p in prose for s in sentences(p.text)]
    all_words = [w for s in all_sentences for w in words(s)]
    if not all_words:
        return judge(LAYER, [], ok="no prose to read")
    mean = len(all_words) / len(all_sentences)
    long_ones = sum(1 for s in all_sentences if len(words(s)) > LONGEST_SENTENCE_WORDS)
    letters = sum(len(w) for w in all_words) / len(all_words)
    findings: list[Finding] = []
    if mean > MEAN_SENTENCE_WORDS:
        message = f"sentences average {mean:.0f} words; keep them under {MEAN_SENTENCE_WORDS}"
        findings.append(Finding(min(0.6, 0.05 * (mean - MEAN_SENTENCE_WORDS)), message))
    if long_ones:
        message = f"{long_ones} sentence(s) over {LONGEST_SENTENCE_WORDS} words; split them"
        findings.append(Finding(min(0.6, 0.2 * long_ones), message))
    for passage in prose:
        walls = sum(1 for para in paragraphs(passage.text) if len(words(para)) > PARAGRAPH_WORDS)
        if walls:
            message = f"{passage.where} has a wall of text; break paragraphs over {PARAGRAPH_WORDS} words"
            findings.append(Finding(0.3 * walls, message))
    if letters > MEAN_WORD_LETTERS:
        message = f"words average {letters:.1f} letters; prefer plain, short words"
        findings.append(Finding(min(0.6, letters - MEAN_WORD_LETTERS), message))
    return judge(LAYER, findings, ok=f"readable: sentences average {mean:.0f} words, words {letters:.1f} letters")
