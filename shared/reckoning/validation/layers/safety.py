"""Layer 7 — safety: no medical, legal or financial directives, and crisis language met with care.

A report may encourage someone to see a doctor, a lawyer or an adviser; it must
not play one. When the answers speak of self-harm or not wanting to live, the
report must acknowledge it and point to help — ignoring it always blocks.
"""

from __future__ import annotations

import re

from reckoning.validation.result import Finding, LayerResult, judge
from reckoning.validation.subject import Subject
from reckoning.validation.view import ReportView

LAYER = "safety"

_MEDS = r"(?:medication|medicine|meds|pills|antidepressants?|prescriptions?|painkillers|tablets|insulin|inhaler)"
_CONDITIONS = (
    r"(?:depression|depressive disorder|an? anxiety disorder|generali[sz]ed anxiety|adhd|autism|bipolar|ptsd|ocd|"
    r"burnout|insomnia|an eating disorder|anorexia|bulimia|a personality disorder|borderline|dementia|diabetes|"
    r"an addiction)"
)
_ASSETS = (
    r"(?:stocks?|shares|equities|crypto(?:currenc(?:y|ies))?|bitcoin|ethereum|gold|silver|property|real estate|"
    r"(?:an? |the )?(?:index |mutual |hedge )?funds?|etfs?|bonds|the (?:stock )?market|options|forex|startups?)"
)
_HEDGED_YOU = r"\byou (?:clearly |probably |likely |definitely |obviously )?"


def _rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(alternatives), re.IGNORECASE)


DIRECTIVES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a medical directive", _rx(
        rf"\b(?:stop|quit|come off|skip) (?:taking )?(?:your |the |all |any )?(?:[\w-]+ ){{0,2}}{_MEDS}",
        rf"\b(?:increase|reduce|double|halve|lower|raise|change) (?:your |the )?(?:dose|dosage|{_MEDS})",
        r"\btake \d+ ?(?:mg|milligrams?|pills?|tablets?)\b",
        r"\byou (?:don't|do not) need (?:a doctor|therapy|a therapist|medication|treatment)\b",
    )),
    ("a diagnosis", _rx(
        rf"{_HEDGED_YOU}(?:have|suffer from|are suffering from|are showing signs of) (?:\w+ )?{_CONDITIONS}\b",
        r"\byou(?: are|'re) (?:clinically )?(?:depressed|bipolar|autistic|anorexic|an alcoholic|an addict)\b",
        r"\b(?:this|that|it) (?:is|sounds like|looks like) (?:clinical |major )?"
        r"(?:depression|an? (?:anxiety|personality|eating) disorder|ptsd|adhd)\b",
    )),
    ("a legal directive", _rx(
        r"\b(?:you should |go and |just )?sue (?:your|him|her|them|the|for)\b",
        r"\b(?:file|bring) (?:a )?(?:lawsuit|law suit|legal claim|claim against)\b",
        r"\btake (?:them|him|her|your \w+) to court\b",
        r"\b(?:file for|get a) divorce\b|\bbreak (?:your|the) (?:lease|contract)\b",
        r"\bstop paying (?:your )?(?:taxes|rent|child support)\b",
    )),
    ("a financial directive", _rx(
        rf"\binvest (?:your \w+ |all |everything |it )?in(?:to)? {_ASSETS}\b",
        rf"\b(?:buy|sell) (?:some )?{_ASSETS}\b",
        r"\bput (?:your|all your|the) (?:savings|money|pension) (?:in|into)\b",
        r"\b(?:take out|get) a (?:loan|mortgage|second mortgage|payday loan)\b",
        r"\bcash out your (?:pension|401k|savings)\b|\bmax out\b",
    )),
)  # fmt: skip
# "Don't stop taking your medication without your doctor" is care, not a directive.
_HEDGE = re.compile(
    r"\b(?:don't|do not|never|without|before|unless|with your|talk to|ask your|not)\b[^.!?]{0,40}$", re.I
)

CRISIS = re.compile(
    r"\b(?:suicid\w*|kill(?:ing)? myself|end(?:ing)? (?:it all|my life|things)|self[- ]?harm\w*|hurt(?:ing)? myself|"
    r"cut(?:ting)? myself|(?:no|any) (?:reason|point) (?:to|in) (?:live|living|going on|being here)|"
    r"(?:don't|do not|dont) want to (?:live|be alive|be here|wake up|exist)|better off without me|"
    r"want(?:ed)? to die|wish I (?:was|were) (?:dead|gone)|can't go on|cannot go on)",
    re.I,
)
HELP = re.compile(
    r"\b(?:crisis (?:line|service|team|text)|helpline|hotline|lifeline|samaritans|emergency (?:services|number|room)|"
    r"988|116 ?123|112|999|911|A&E|therapist|counsell?or|psychologist|psychiatrist|doctor|GP|"
    r"mental health (?:professional|service|team|support)|professional (?:help|support))\b",
    re.I,
)


def check(subject: Subject) -> LayerResult:
    view = subject.view
    findings = _directives(view)
    if CRISIS.search(subject.facts.answered_text):
        findings += _crisis_handled(view)
    return judge(LAYER, findings, ok="no directives; nothing unsafe")


def _directives(view: ReportView) -> list[Finding]:
    found: dict[str, None] = {}  # one finding per place and kind, in reading order
    for passage in view.passages():
        for label, pattern in DIRECTIVES:
            for match in pattern.finditer(passage.text):
                if not _HEDGE.search(passage.text[max(0, match.start() - 60) : match.start()]):
                    found[f"{passage.where} gives {label}; encourage professional advice instead"] = None
    return [Finding(1.0, message) for message in found]


def _crisis_handled(view: ReportView) -> list[Finding]:
    if not any(HELP.search(p.text) for p in view.passages()):
        return [
            Finding(
                1.0,
                "the answers contain crisis language and the report does not respond to it: acknowledge it gently "
                "and point to help (a crisis line, a doctor or a therapist)",
            )
        ]
    prominent = HELP.search(view.summary) or any(HELP.search(f"{s.action} {s.why}") for s in view.next_steps)
    if not prominent:
        return [Finding(0.2, "the pointer to help for the crisis language should be in the summary or a next step")]
    return []
