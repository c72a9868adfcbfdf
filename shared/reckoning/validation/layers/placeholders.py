"""Layer 6 — nothing a template, a draft or a chatbot would leave behind.

Placeholders and meta-talk; text addressed to a model or echoing its instructions
(role markers, "ignore previous instructions", "the system prompt", "note to the
assistant"); markup (HTML, markdown); links to sites the person never mentioned.
Each is recognised by its kind rather than by a list of sentences, and the
person's own words may always be quoted back. Reasons name the kind and the place,
never the text, so no report text reaches the feedback or the stored results.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from reckoning.validation.result import Finding, LayerResult, outcome
from reckoning.validation.subject import Subject
from reckoning.validation.view import Passage

LAYER = "placeholders"

_MODEL = r"(?:assistant|model|AI|LLM|chatbot|bot|system|writer|reviewer|validator|grader|Claude|GPT[-\w]*|ChatGPT)"
_QUALIFIER = r"(?:all (?:of )?(?:the |your |my )?|any (?:of )?(?:the )?|the |your |my |these |those )?"
_EARLIER = r"(?:previous|prior|earlier|above|preceding|original|initial|former|system|developer|hidden)"
_ORDERS = r"(?:instructions?|guidance|guidelines|rules|prompts?|directions|directives|messages?|context|constraints)"

PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("talk about being an AI", re.compile(
        r"\bas an? (?:AI|artificial intelligence|assistant|chatbot)\b|\bI(?: am|'m) (?:an? )?(?:AI|bot|chatbot)\b"
        r"|\b(?:large )?language model\b", re.I)),
    ("a bracketed placeholder", re.compile(r"\[[^\]\n]{2,40}\](?!\()")),
    ("a template variable", re.compile(r"\{\{?\s*[A-Za-z_][\w.]*\s*\}?\}|<[A-Z_]{3,}>|\$\{\w+\}")),
    ("filler text", re.compile(r"\blorem ipsum\b", re.I)),
    ("a to-do marker", re.compile(r"\b(?:TODO|TBD|FIXME|XXX)\b")),
    ("an insertion instruction", re.compile(r"\binsert (?:[\w'\u2019]+ ){0,3}here\b|[<\[(]\s*insert\b", re.I)),
    ("a refusal or apology", re.compile(r"\bI (?:cannot|can't|can not|am unable to|'m unable to|won't be able to)\b")),
    ("talk about the report itself", re.compile(
        r"\b(?:here is|here's|below is) (?:your|the|a) (?:\w+ ){0,2}(?:report|reckoning|summary|section|closing)\b"
        r"|\bI hope this (?:report|helps)\b|\bbased on the (?:information|answers|data) (?:you )?provided\b"
        r"|\b(?:this|the) report (?:was|is) generated\b", re.I)),
    ("leftover markup", re.compile(r"```|\"(?:title|summary|sections|nextSteps|closing)\"\s*:")),
    # Text for a model rather than for the person: notes to it, its instructions, its conversation.
    ("text addressed to a model", re.compile(
        rf"\b(?:notes?|instructions?|messages?|reminders?|reply|memo) (?:for|to) (?:the |this |our |you, )?{_MODEL}\b"
        rf"|\b(?:dear|hey|hi) {_MODEL}\b|\bif you are an? (?:AI|language model|assistant|LLM|chatbot)\b"
        rf"|(?:^|[.!?]\s+)\W*{_MODEL}\s*[,:]\s*(?:please|you must|you should|do not|don't|remember|ignore|make sure)\b",
        re.I | re.M)),
    ("an echo of instructions", re.compile(
        rf"\b(?:ignore|disregard|forget|override|bypass|set aside)\s+{_QUALIFIER}{_EARLIER}?\s*{_ORDERS}\b"
        rf"|\b(?:ignore|disregard|forget)\s+(?:all|everything)\s+(?:above|before|previous|prior)\b"
        rf"|\b{_EARLIER} (?:prompt|message|instructions?)\b"
        r"|\bas (?:instructed|you requested|requested by the user)\b"
        r"|\b(?:as|like) the (?:prompt|instructions?|request) (?:says|said|asks|asked)\b"
        r"|\b(?:I|we) (?:was|were|have been|'ve been|am|'m) (?:asked|told|instructed|prompted|requested|required) to\b"
        r"|\bmy (?:instructions|guidelines|system prompt)\b|\bthis prompt\b"
        r"|\bthe user(?:'s)? (?:asked|wants|wanted|wrote|requested|prefers|said|input|request)\b", re.I)),
    ("a chat role marker", re.compile(
        r"(?:^|\n)\s*(?:system|user|assistant|human|AI|model)\s*:"
        r"|<\|?\s*/?\s*(?:system|user|assistant|im_start|im_end|endoftext)\s*\|?>|\[/?(?:INST|SYS)\]|<</?SYS>>"
        r"|#+\s*(?:response|instruction|input|output)\s*:?", re.I)),
    ("raw HTML", re.compile(r"</?[a-z][a-z0-9]*(?:\s[^<>]*)?/?>|&(?:[a-z]{2,8}|#\d{2,5});", re.I)),
    ("markdown formatting", re.compile(
        r"\*\*[^*\n]+\*\*|__[^_\n]+__|(?<![\w*])\*[^*\s][^*\n]*\*(?![\w*])|`[^`\n]+`|\[[^\]\n]+\]\([^)\s]+\)"
        r"|(?:^|\n)[ \t]*(?:#{1,6}|[-*+•]|\d{1,2}[.)]|>)[ \t]+\S")),
)  # fmt: skip

_TLD = r"(?:com|org|net|io|co|uk|ie|de|fr|es|pt|it|nl|be|ch|at|eu|info|app|ai|me|gov|edu|us|ca|au|nz|in|dev|xyz)"
LINK = re.compile(rf"\b(?:https?://|www\.)[^\s<>\"'”)]+|\b(?:[a-z0-9][a-z0-9-]*\.)+{_TLD}\b(?:/[^\s<>\"'”)]*)?", re.I)


def check(subject: Subject) -> LayerResult:
    # The person's own words may contain "I cannot…" or a link of theirs, and a report may quote them.
    own_words = subject.facts.answered_text.casefold()
    findings = [
        Finding(1.0, f"{passage.where} contains {label}; remove it")
        for passage in subject.view.passages()
        for label in _leftovers(passage, own_words)
    ]
    return outcome(LAYER, findings, ok="no placeholders, meta-talk, markup or links")


def _leftovers(passage: Passage, own_words: str) -> Iterator[str]:
    for label, pattern in PATTERNS:
        if any(m.group(0).strip().casefold() not in own_words for m in pattern.finditer(passage.text)):
            yield label
    if any(_site(m.group(0)) not in own_words for m in LINK.finditer(passage.text)):
        yield "a link to a site the person never mentioned"


def _site(link: str) -> str:
    """The host of a link, as a person would write it ("https://www.example.org/x" -> "example.org")."""
    host = re.sub(r"^(?:https?://)?(?:www\.)?", "", link.casefold()).split("/", 1)[0]
    return host.rstrip(".,;:!?")
