"""Layer 8 — privacy: no contact details, no tracking links, no people the person never mentioned.

People are recognised only where a sentence treats a capitalised word as a
person ("your colleague Mark", "ask Mark", "Dr Mark"), so places and brands the
report mentions in passing are not taken for names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from reckoning.validation.facts import Facts
from reckoning.validation.result import Finding, LayerResult, outcome
from reckoning.validation.subject import Subject
from reckoning.validation.text import fold_name, normalise, sentences
from reckoning.validation.view import Passage

LAYER = "privacy"

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w/])\+?\d[\d ()./-]{5,}\d(?![\w/])")
_DATE_LIKE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$|^\d{4}\s*[-/]\s*\d{4}$")
_HELPLINE = re.compile(r"\b(?:helpline|hotline|lifeline|crisis|samaritans|emergency|line|freephone|text)\b", re.I)
# Public numbers anyone may be given: crisis lines and emergency services.
PUBLIC_NUMBERS = frozenset({"116123", "116111", "988", "111", "999", "911", "112", "85258", "741741", "08457909090"})
URL = re.compile(r"\b(?:https?://|www\.)\S+", re.I)
_URL_PERSONAL = re.compile(r"[?@=#]|/[^/\s]*\d{5,}|/[A-Za-z0-9_-]{20,}")

_RELATIONS = (
    r"partner|friend|mentor|boss|manager|sister|brother|mother|father|mum|mom|dad|wife|husband|son|daughter|"
    r"colleague|co-?worker|coach|therapist|neighbou?r|boyfriend|girlfriend|cousin|aunt|uncle|grandmother|"
    r"grandfather|grandma|grandpa|teacher|flatmate|roommate|child|kid|niece|nephew|ex"
)
_NAME = r"(?P<name>[^\W\d_][\w'-]*)"
PERSON_PATTERNS = (
    re.compile(rf"\b(?:your|his|her|their|my)\s+(?:[\w-]+\s+)?(?:{_RELATIONS})s?,?\s+{_NAME}", re.I),
    re.compile(rf"\b(?:tell|ask|call|text|email|phone|message|invite|thank)\s+{_NAME}", re.I),
    re.compile(rf"\b(?:Mr|Mrs|Ms|Mx|Dr|Prof)\.?\s+{_NAME}"),
    re.compile(rf"(?<=\w\s){_NAME}'s\s+(?:advice|help|support|story|idea|words|offer|number|email|address)\b"),
)
# Capitalised words after those cues that are not private persons: helplines, calendar, pronoun "I".
NOT_PERSONS = frozenset(
    """
    i samaritans shout mind lifeline befrienders nhs monday tuesday wednesday thursday friday saturday sunday
    january february march april may june july august september october november december someone them
    yourself everyone anyone
    """.split()
)


def check(subject: Subject) -> LayerResult:
    facts = subject.facts
    findings: list[Finding] = []
    for passage in subject.view.passages():
        findings.extend(_contact_details(passage, facts))
        if any(True for _ in _strangers(passage.text, facts)):
            findings.append(Finding(1.0, f"{passage.where} names a person the answers never mention; leave them out"))
    return outcome(LAYER, findings, ok="no personal data beyond what the person shared")


def _contact_details(passage: Passage, facts: Facts) -> Iterator[Finding]:
    text = normalise(passage.text)
    if EMAIL.search(text):
        yield Finding(1.0, f"{passage.where} contains an email address")
    for sentence in sentences(text):
        for match in PHONE.finditer(sentence):
            digits = sum(ch.isdigit() for ch in match.group(0))
            bare = "".join(ch for ch in match.group(0) if ch.isdigit())
            public = bare in PUBLIC_NUMBERS or bare in facts.answered_text.replace(" ", "")
            if digits >= 8 and not _DATE_LIKE.match(match.group(0)) and not _HELPLINE.search(sentence) and not public:
                yield Finding(1.0, f"{passage.where} contains a phone number")
    for match in URL.finditer(text):
        url = match.group(0).casefold()
        if _URL_PERSONAL.search(url) or any(len(w) > 2 and w in url for w in facts.name_words):
            yield Finding(1.0, f"{passage.where} contains a link carrying personal data")


def _strangers(text: str, facts: Facts) -> Iterator[str]:
    for pattern in PERSON_PATTERNS:
        for match in pattern.finditer(normalise(text)):
            name = match.group("name").removesuffix("'s")
            if name[0].isupper() and not name.isupper() and name.casefold() not in NOT_PERSONS:
                if fold_name(name) not in facts.known_names:
                    yield name
