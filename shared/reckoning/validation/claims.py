"""Leads for the judge on facts about the person: a job, a relation, a place or employer, an amount.

A report that calls a nurse a midwife, a husband a wife, or names an employer the person never mentioned
states something the answers contradict or do not hold. A rule cannot be sure (a paraphrase, a suggestion,
a helpline), so each is a `suspicion` with the sentence as its quote; the judge decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from reckoning.models.judgement import Category
from reckoning.validation.facts import Facts
from reckoning.validation.result import Finding
from reckoning.validation.text import fold_name, normalise, sentences, words
from reckoning.validation.view import ReportView

OCCUPATIONS = frozenset(
    """
    nurse midwife doctor surgeon paramedic teacher lecturer professor tutor plumber electrician builder
    carpenter joiner mechanic engineer developer programmer designer architect accountant lawyer solicitor
    barrister pharmacist dentist vet chef cook baker waiter waitress cleaner driver pilot farmer gardener
    journalist writer editor illustrator artist musician photographer librarian scientist researcher
    consultant manager receptionist cashier hairdresser firefighter soldier officer police policeman
    policewoman therapist counsellor physiotherapist optician postman postwoman courier student salesman
    saleswoman shopkeeper translator interpreter secretary administrator analyst banker clerk technician
    welder painter decorator roofer tiler locksmith bricklayer labourer porter caretaker janitor
    """.split()
)
# Relations in groups of synonym sets: within a group, another set is a contradiction ("wife" for "husband");
# within a set, a synonym is the same person ("mom" for "mum").
RELATION_GROUPS: tuple[tuple[frozenset[str], ...], ...] = tuple(
    tuple(frozenset(synonyms.split()) for synonyms in group)
    for group in (
        ("wife", "husband", "boyfriend", "girlfriend", "fiance fiancee"),
        ("son sons", "daughter daughters"),
        ("mother mum mom mam mummy mommy", "father dad daddy"),
        ("sister sisters", "brother brothers"),
        ("grandmother grandma gran nan nana granny", "grandfather grandpa granddad grandad"),
        ("aunt", "uncle", "niece", "nephew"),
    )
)
_JOB_CUE = re.compile(
    r"(?:\bas an?|\bwork(?:ing)? as an?|\bjob as an?|\byears as an?|\bbeing an?|\byou(?:'re| are) an?|\ba fellow|"
    r"\btrained as an?|^[^,]{1,30},\s+an?)"
    r"\s+(?P<first>[a-z]+)(?:\s+(?P<second>[a-z]+))?\b",
    re.I,
)
_YOUR_RELATION = re.compile(r"\byour\s+(?:\w+\s+)?(?P<rel>[a-z]+)\b", re.I)
_PROPER_CUE = re.compile(
    r"\b(?:at|for|with|in|from|to|joined|left|leaving|near|by)\s+(?P<name>[A-Z][\w'&-]+(?:\s+[A-Z][\w'&-]+)*)"
)
_MONEY = re.compile(r"[£$€]\s?\d[\d,.]*(?:\s?[kKmM]\b)?|\b\d[\d,.]*\s?(?:pounds|dollars|euros|grand)\b")
_UNIT_COUNT = re.compile(
    r"\b(?P<n>\d+(?:[.,]\d+)?)\s*(?:-\s*)?(?P<unit>years?|months?|weeks?|days?|hours?|kids|children|shifts?|miles|km)\b",
    re.I,
)
_SUGGESTED = re.compile(
    r"\b(?:aim|try|could|might|would|perhaps|maybe|just|even|only|set aside|protect|block|start|first|next|"
    r"a few|plan|every|each|per|within|in the next|for the next|over the next)\b[^.]{0,30}$",
    re.I,
)
# Proper nouns a report may use without the answers: calendar, help services, the language.
ALLOWED_PROPER = frozenset(
    """
    i monday tuesday wednesday thursday friday saturday sunday january february march april may june july august
    september october november december christmas easter english samaritans nhs gp mind shout citizens advice
    stepchange crisis lifeline befrienders age uk carers relate cruse macmillan national debtline moneyhelper
    talking therapies health visitor a&e er reckoning you your
    """.split()
)


def suspicions(view: ReportView, facts: Facts) -> list[Finding]:
    answered = {w.casefold() for w in words(facts.answered_text)}
    folded = {fold_name(w) for w in answered}
    # Their own words, and the figures they gave ("3" hours a week for themselves), are what a report may state.
    figures = " ".join(f"{value:g} {question.id}" for value, question in facts.scales.values())
    own = f"{facts.answered_text}\n{figures}"
    found: list[Finding] = []
    for passage in view.passages():
        for sentence in sentences(passage.text):
            plain = normalise(sentence)
            found += list(_job(plain, sentence, answered))
            found += list(_relation(plain, sentence, answered))
            found += list(_proper(plain, sentence, folded))
            found += list(_amounts(plain, sentence, own))
            found += list(_facts(plain, sentence, own))
    return found


def _lead(strength: float, message: str, category: Category, quote: str) -> Finding:
    return Finding(strength, message, kind="suspicion", category=category, quote=quote)


def _job(plain: str, sentence: str, answered: set[str]) -> Iterator[Finding]:
    theirs = answered & OCCUPATIONS
    for match in _JOB_CUE.finditer(plain):
        job = next((w.casefold() for w in match.group("first", "second") if w and w.casefold() in OCCUPATIONS), "")
        if job and job not in answered and f"{job}s" not in answered:
            if theirs - {job}:
                yield _lead(0.8, "the report gives their job as another than the one they wrote",
                            Category.CONTRADICTION, sentence)  # fmt: skip
            else:
                near = any(word.startswith(job[:4]) for word in answered)  # "nurse" for "nursing"
                yield _lead(0.3 if near else 0.6, "the report states a job the answers never mention",
                            Category.INVENTED, sentence)  # fmt: skip


def _relation(plain: str, sentence: str, answered: set[str]) -> Iterator[Finding]:
    for match in _YOUR_RELATION.finditer(plain):
        rel = match.group("rel").casefold()
        group = next((g for g in RELATION_GROUPS if any(rel in synonyms for synonyms in g)), None)
        if group is None:
            continue
        same = next(synonyms for synonyms in group if rel in synonyms)
        if same & answered:
            continue
        if any(synonyms & answered for synonyms in group):
            yield _lead(0.8, "the report names a relation their answers contradict", Category.CONTRADICTION, sentence)
        else:
            yield _lead(0.45, "the report names a relation the answers never mention", Category.INVENTED, sentence)


def _proper(plain: str, sentence: str, known: set[str]) -> Iterator[Finding]:
    for match in _PROPER_CUE.finditer(plain):
        names = [w for w in match.group("name").split() if fold_name(w) not in ALLOWED_PROPER and w.isalpha()]
        if names and not any(fold_name(w.rstrip("'s")) in known or fold_name(w) in known for w in names):
            yield _lead(0.6, "the report names a place, employer or organisation the answers never mention",
                        Category.INVENTED, sentence)  # fmt: skip
            return


_AGE_OWN = re.compile(r"\b(?:I'm|I am|aged?)\s+(\d{2})\b|\b(\d{2})\s*(?:years old|yo)\b", re.I)
_AGE_SAID = re.compile(r"(?:\bat|\baged?|^[^,]{1,30},)\s+(\d{2})(?:,|\s*(?:years old|$)|\s+(?:is|and|you))", re.I)
OPPOSITES = (("full-time", "part-time"), ("full time", "part time"), ("married", "divorced"), ("renting", "own"))


def _facts(plain: str, sentence: str, answered_text: str) -> Iterator[Finding]:
    """An age, or a plain either-or (full-time or part-time), other than the one in the answers."""
    theirs = normalise(answered_text)
    ages = {a for m in _AGE_OWN.finditer(theirs) for a in m.groups() if a}
    said = {m.group(1) for m in _AGE_SAID.finditer(plain)}
    if ages and said - ages - set(re.findall(r"\d+", theirs)):
        yield _lead(0.8, "the report gives their age wrongly", Category.CONTRADICTION, sentence)
    folded, mine = plain.casefold(), theirs.casefold()
    for a, b in OPPOSITES:
        for this, other in ((a, b), (b, a)):
            if re.search(rf"\b{this}\b", folded) and re.search(rf"\b{other}\b", mine) and this not in mine:
                yield _lead(0.7, f"the report says {this} where their answers say {other}",
                            Category.CONTRADICTION, sentence)  # fmt: skip


def _amounts(plain: str, sentence: str, answered_text: str) -> Iterator[Finding]:
    theirs = normalise(answered_text).casefold()
    for match in _MONEY.finditer(plain):
        digits = re.sub(r"[^\d]", "", match.group(0))
        if digits and digits not in re.sub(r"[,.]", "", theirs) and not _SUGGESTED.search(plain[: match.start()]):
            yield _lead(0.6, "the report states an amount the answers do not hold", Category.CONTRADICTION, sentence)
            return
    for match in _UNIT_COUNT.finditer(plain):
        unit = match.group("unit").casefold().rstrip("s")
        mine = re.findall(rf"\b(\d+(?:[.,]\d+)?)\s*(?:-\s*)?{unit}s?\b", theirs)
        if (
            mine
            and match.group("n") not in mine
            and match.group("n") not in re.findall(r"\d+", theirs)
            and not _SUGGESTED.search(plain[: match.start()])
        ):
            yield _lead(0.6, f"the report states {match.group(0)} where their answers say otherwise",
                        Category.CONTRADICTION, sentence)  # fmt: skip
            return
