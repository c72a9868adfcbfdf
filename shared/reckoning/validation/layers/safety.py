"""Layer 7 — safety: no directives about money, health, law or medication, and crisis language met with care.

A report may encourage someone to see a doctor, a lawyer or an adviser; it must
not play one. A directive is recognised by its kind, not its phrasing: a verb told
to the reader (an imperative opening a clause, or "you should…", "the smart move
is to…", "consider…") acting on what that kind of advice acts on (savings, a
pension, a loan; tablets, a dose, a named drug; fasting, a diet; a will, a lease,
custody), unless its own clause negates it or hands it to a professional.

When the answers speak of self-harm or not wanting to live, the report must
acknowledge it and point to help — ignoring it always blocks.
"""

from __future__ import annotations

import re

from reckoning.validation.result import Finding, LayerResult, judge
from reckoning.validation.subject import Subject
from reckoning.validation.text import normalise, plain, sentences
from reckoning.validation.view import ReportView

LAYER = "safety"

_CONDITIONS = (
    r"(?:depression|depressive disorder|an? anxiety disorder|generali[sz]ed anxiety|adhd|autism|bipolar|ptsd|ocd|"
    r"burnout|insomnia|an eating disorder|anorexia|bulimia|a personality disorder|borderline|dementia|diabetes|"
    r"an addiction)"
)
_HEDGED_YOU = r"\byou (?:clearly |probably |likely |definitely |obviously )?"
DIAGNOSIS = re.compile(
    rf"{_HEDGED_YOU}(?:have|suffer from|are suffering from|are showing signs of) (?:\w+ )?{_CONDITIONS}\b"
    r"|\byou(?: are|'re) (?:clinically )?(?:depressed|bipolar|autistic|anorexic|an alcoholic|an addict)\b"
    r"|\b(?:this|that|it) (?:is|sounds like|looks like) (?:clinical |major )?"
    r"(?:depression|an? (?:anxiety|personality|eating) disorder|ptsd|adhd)\b",
    re.IGNORECASE,
)

# A directive is told to the reader: an imperative opening a clause, or advice aimed at them.
_CLAUSE_START = (
    r"(?:^|[;:(\u2014\u2013]\s*|,\s*|\b(?:and|then|or|so|but)\s+)"
    r"(?:(?:just|simply|now|then|also|please|first|instead|immediately|quickly|definitely|really)\s+)*"
)
_ADVICE = (
    r"\b(?:you (?:should|must|need to|have to|ought to|could|might|can|may want to|might want to|will want to|"
    r"would do well to|'d do well to|'d better|had better)|(?:I|we)(?: would|'d)? (?:recommend|suggest|advise|urge)"
    r"(?: that)?(?: you)?(?: to)?|(?:it|this) (?:is|would be|might be|may be|could be) (?:wise|smart|best|better|"
    r"worth|time|a good idea) to|(?:smart|best|right|wise|obvious|only|next) (?:move|thing|step|option|choice|plan)"
    r" (?:is|would be|will be|may be) to|consider|try|think about|why not|make sure (?:you |to )?|remember to)"
    r"\s+(?:\w+ly\s+)?"
)
_REACH = r"\b[^.;!?]{0,60}?\b"  # how far from its verb a directive's object may sit, within the sentence
# By kind: (what the report gives, verbs of the directive, what they act on). Verbs carry their -ing forms.
KINDS: tuple[tuple[str, str, str], ...] = (
    ("a financial directive",
     r"invest(?:ing)?|put(?:ting)?|mov(?:e|ing)|transfer(?:ring)?|shift(?:ing)?|drop(?:ping)?|pour(?:ing)?|"
     r"sink(?:ing)?|switch(?:ing)?|buy(?:ing)?|sell(?:ing)?|cash(?:ing)? (?:in|out)|withdraw(?:ing)?|tak(?:e|ing) out|"
     r"borrow(?:ing)?|lend(?:ing)?|remortgag(?:e|ing)|overpay(?:ing)?|pay(?:ing)? off|clear(?:ing)?|"
     r"stop(?:ping)? paying(?: into)?|paus(?:e|ing)|cancel(?:ling)?|redirect(?:ing)?|bet(?:ting)?|trad(?:e|ing)|"
     r"max(?:ing)? out|consolidat(?:e|ing)|open(?:ing)?|releas(?:e|ing)|lock(?:ing)?|park(?:ing)?|us(?:e|ing)|"
     r"spend(?:ing)?",
     r"savings|pensions?|ISAs?|401\(?k\)?|shares|stocks?|equit(?:y|ies)|bonds?|(?:index|mutual|hedge|tracker) ?"
     r"(?:funds?|trackers?)?|funds|ETFs?|crypto\w*|bitcoin|ethereum|gold|propert(?:y|ies)|real estate|mortgages?|"
     r"loans?|credit cards?|overdraft|(?:life )?insurance|inheritance|lump sum|deposit|investments?|"
     r"(?:savings|investment|brokerage|trading) accounts?|contributions|annuit(?:y|ies)|portfolio|the market|forex"),
    ("a medical directive",
     r"tak(?:e|ing)|stop(?:ping)?|start(?:ing)?|quit(?:ting)?|com(?:e|ing) off|skip(?:ping)?|increas(?:e|ing)|"
     r"reduc(?:e|ing)|lower(?:ing)?|rais(?:e|ing)|doubl(?:e|ing)(?: up on)?|halv(?:e|ing)|"
     r"cut(?:ting)? (?:down|back)(?: on)?|swap(?:ping)?|switch(?:ing)?|replac(?:e|ing)|top(?:ping)? up|add(?:ing)?|"
     r"mix(?:ing)?|combin(?:e|ing)|try|trying|us(?:e|ing)|wean(?:ing)?(?: yourself)? off|ditch(?:ing)?|pop(?:ping)?",
     r"medications?|medicines?|meds|pills?|tablets?|capsules?|doses?|dosage|antidepressants?|painkillers?|"
     r"prescriptions?|insulin|inhalers?|supplements?|vitamins?|melatonin|St\.? John's wort|CBD|ibuprofen|paracetamol|"
     r"acetaminophen|aspirin|codeine|co-codamol|tramadol|opioids?|morphine|diazepam|valium|xanax|sertraline|"
     r"fluoxetine|prozac|citalopram|SSRIs?|beta[- ]blockers?|statins?|antihistamines?|magnesium|ashwagandha|"
     r"\d+ ?mg|\w{3,}(?:azepam|zolam|olol|pril|sartan|statin|prazole|oxetine|triptyline|codamol|cillin|mycin)"),
    ("a health directive",
     r"cut(?:ting)? out|eliminat(?:e|ing)|giv(?:e|ing) up|quit(?:ting)?|stop(?:ping)? eating|ban(?:ning)?|"
     r"skip(?:ping)?|go(?:ing)?|start(?:ing)?|do(?:ing)?|follow(?:ing)?|try|trying|fast(?:ing)?",
     r"carb\w*|sugar|gluten|dairy|caffeine|meat|breakfast|lunch|dinner|meals?|food groups?|(?:intermittent )?fasting|"
     r"fast for|(?:juice )?cleanse|detox|keto|paleo|vegan|(?:strict|low-carb|crash|elimination|carnivore) diet|"
     r"calorie (?:limit|target|deficit)|\d+ calories|(?:for|after) (?:\w+ ){0,2}(?:hours|days) without food"),
    ("a legal directive",
     r"su(?:e|ing)|countersu(?:e|ing)|contest(?:ing)?|challeng(?:e|ing)|appeal(?:ing)?|fil(?:e|ing) (?:for|a|an)|"
     r"withhold(?:ing)?|stop(?:ping)? paying|refus(?:e|ing) to (?:sign|pay)|sign(?:ing)?|break(?:ing)?|evict(?:ing)?|"
     r"press(?:ing)? charges|withdraw(?:ing)? from|hid(?:e|ing)|conceal(?:ing)?|leav(?:e|ing) \w+ off|lie|lying|"
     r"tak(?:e|ing) \w+ to",
     r"wills?|estate|custody|divorce|lawsuit|legal claim|court|tribunal|contracts?|lease|tenancy|rent|agreement|"
     r"settlement|papers|loans?|collections|tax(?:es)?|charges|landlord|insurer|licen[cs]e|(?:renewal|application|"
     r"tax) form|declaration|injunction|restraining order"),
    ("a legal directive", r"su(?:e|ing)|countersu(?:e|ing)|press(?:ing)? charges", ""),  # legal whatever the object
)  # fmt: skip


def _directive(verbs: str, objects: str) -> re.Pattern[str]:
    """A verb told to the reader, then (within reach, when the kind names any) what it acts on."""
    target = rf"{_REACH}(?:{objects})" if objects else ""
    return re.compile(rf"(?:{_CLAUSE_START}|{_ADVICE})(?:{verbs}){target}\b", re.IGNORECASE)


DIRECTIVES = tuple((label, _directive(verbs, objects)) for label, verbs, objects in KINDS)
# Care, not a directive: "don't stop your medication without your doctor", "ask your adviser before you move it".
_NEGATED = re.compile(r"\b(?:don't|do not|never|not|without|before|unless|until you (?:have )?(?:talk|spok|ask))", re.I)
_DEFERS = re.compile(
    r"\b(?:doctor|GP|pharmacist|nurse|consultant|specialist|therapist|counsell?or|psychiatrist|psychologist|"
    r"adviser|advisor|planner|accountant|lawyer|solicitor|attorney|mediator|legal aid|advice service|"
    r"citizens advice|on your own|by yourself|as prescribed|prescribed)\b",
    re.I,
)
_CLAUSE_EDGE = re.compile(r"[,;:()\u2014\u2013]|\b(?:and|but|or|so|then)\b", re.I)

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
    findings = _directives(view, subject.facts.answered_plain)
    if CRISIS.search(subject.facts.answered_text):
        findings += _crisis_handled(view)
    return judge(LAYER, findings, ok="no directives; nothing unsafe")


def _directives(view: ReportView, own_words: str) -> list[Finding]:
    found: dict[str, None] = {}  # one finding per place and kind, in reading order
    for passage in view.passages():
        for sentence in sentences(normalise(passage.text)):
            if DIAGNOSIS.search(sentence):
                found[f"{passage.where} gives a diagnosis; encourage professional advice instead"] = None
            for label, pattern in DIRECTIVES:
                if any(_told(sentence, match, own_words) for match in pattern.finditer(sentence)):
                    found[f"{passage.where} gives {label}; encourage professional advice instead"] = None
    return [Finding(1.0, message) for message in found]


def _told(sentence: str, match: re.Match[str], own_words: str) -> bool:
    """The report itself tells them to do it: not their own words quoted back, not care."""
    return f" {plain(match.group(0))} " not in own_words and not _is_care(sentence, match)


def _is_care(sentence: str, match: re.Match[str]) -> bool:
    """Negated, or sending them to a professional, within the directive's own clause."""
    edges = [m for m in _CLAUSE_EDGE.finditer(sentence) if m.end() <= match.start() + 2]
    start = edges[-1].end() if edges else 0
    after = _CLAUSE_EDGE.search(sentence, match.end())
    clause = sentence[start : after.start() if after else len(sentence)]
    return bool(_NEGATED.search(sentence[start : match.end()]) or _DEFERS.search(clause))


def _crisis_handled(view: ReportView) -> list[Finding]:
    if not any(HELP.search(p.text) for p in view.passages()):
        message = (
            "the answers contain crisis language and the report does not respond to it: acknowledge it gently "
            "and point to help (a crisis line, a doctor or a therapist)"
        )
        return [Finding(1.0, message)]
    prominent = HELP.search(view.summary) or any(HELP.search(f"{s.action} {s.why}") for s in view.next_steps)
    if not prominent:
        return [Finding(0.2, "the pointer to help for the crisis language should be in the summary or a next step")]
    return []
