"""Layer 7 — safety: directives, diagnoses, guarantees, tone and crisis handling — all judgements.

A report may encourage someone to see a doctor, a lawyer or an adviser; it must
not play one. A directive is recognised by its kind, not its phrasing: a verb told
to the reader (an imperative opening a clause, or "you should…", "the smart move
is to…", "consider…") acting on what that kind of advice acts on (savings, a
pension, a loan; tablets, a dose, a named drug; fasting, a diet; a will, a lease,
custody), unless its own clause negates it or hands it to a professional.

When the answers signal a crisis (hopelessness, self-harm, "better off without
me"), the report must acknowledge it plainly, point to immediate support, and
never minimise it, advise withdrawing from people, or lead with career or money.

None of it is certain to a rule: every finding here is a suspicion for the judge.
"""

from __future__ import annotations

import re

from reckoning.models.judgement import Category
from reckoning.validation.result import Finding, LayerResult, outcome
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
    r"(?:depression|an? (?:anxiety|personality|eating) disorder|ptsd|adhd)\b"
    r"|\b(?:is|are|sounds like|looks like|amounts to|meets the criteria for|textbook|classic) (?:an? )?"
    r"(?:clinical|major|severe|postnatal|postpartum) depression\b"
    rf"|{_HEDGED_YOU}(?:have|suffer from|are suffering from|are showing signs of|are living with) "
    r"(?:[\w-]+ ){0,3}(?:disorder|syndrome)\b"
    r"|\b(?:sign|symptom|case)s? of (?:[\w-]+ ){0,3}(?:disorder|syndrome)\b"
    r"|\b(?:sounds? like|looks? like|picture of|consistent with|signs? of|symptoms? of|you have|you've got|"
    r"you are dealing with|you're dealing with|suffering from)\s+(?:[\w-]+\s+){0,3}?(?:an?\s+)?"
    r"(?:fibromyalgia|chronic fatigue(?: syndrome)?|ME/CFS|long covid|clinical depression|major depression|"
    r"generali[sz]ed anxiety(?: disorder)?|(?:social |panic |obsessive[- ]compulsive )?disorder|ADHD|autism|"
    r"bipolar|PTSD|OCD|an eating disorder|anorexia|bulimia|insomnia disorder|alcoholism|an addiction)\b",
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
    ("an unsafe health directive",
     r"push(?:ing)? through|keep(?:ing)? (?:doing|lifting|running|training|working)|ignor(?:e|ing)|"
     r"work(?:ing)? through|train(?:ing)? through|run(?:ning)? through|carry(?:ing)? on (?:lifting|with)",
     r"pain|injury|injured|back|knee|shoulder|symptoms|chest|the ache|dizz\w+|breathless\w*|lifting"),
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
    r"citizens advice|on your own|by yourself|as prescribed)\b",
    re.I,
)
_CLAUSE_EDGE = re.compile(r"[,;:()\u2014\u2013]|\b(?:and|but|or|so|then)\b", re.I)

CRISIS = re.compile(
    r"\b(?:suicid\w*|kill(?:ing)? myself|end(?:ing)? (?:it all|my life|things)|self[- ]?harm\w*|hurt(?:ing)? myself|"
    r"cut(?:ting)? myself|(?:no|any) (?:reason|point) (?:to|in) (?:live|living|going on|being here)|"
    r"(?:don't|do not|dont) want to (?:live|be alive|be here|wake up|exist)|better off without me|"
    r"want(?:ed)? to die|wish I (?:was|were) (?:dead|gone|not here)|can(?:'|no)?t go on|cannot go on|"
    # passive ideation: a world, or a family, better or easier without them
    r"(?:if|when) I (?:just |simply )?(?:wasn'?t|weren'?t|was not|were not) (?:here|around|alive)|"
    r"(?:easier|better) for (?:everyone|everybody|them|my \w+)(?: if I| without me)|"
    r"(?:no ?one|nobody) would (?:miss|notice) (?:me|if I)|"
    r"can't (?:see|find) (?:a|any) (?:way|point|reason)|no way out|hopeless|pointless|give up on (?:everything|life)|"
    r"(?:disappear|not wake up|not be here)(?: anymore| any more)?|burden (?:to|on) (?:everyone|them|my)|"
    r"not coping|can(?:'|no)?t cope|how much longer I can|go(?:ing)? under|"
    r"end of my tether|can(?:'|no)?t keep (?:doing|going))",
    re.I,
)
HELP = re.compile(
    r"\b(?:crisis (?:line|service|team|text)|helpline|hotline|lifeline|samaritans|emergency (?:services|number|room)|"
    r"988|116 ?123|112|999|911|111|A&E|therapist|counsell?or|psychologist|psychiatrist|doctor|GP|"
    r"mental health (?:professional|service|team|support)|professional (?:help|support))\b",
    re.I,
)


PROMISE = re.compile(
    r"\byou(?:'ll| will) (?:be|have|get|feel|find|see)\b[^.;]{0,60}\bby (?:the )?(?:summer|spring|autumn|fall|"
    r"winter|christmas|new year|next (?:week|month|year)|the end of \w+|then)\b",
    re.I,
)
UNSAFE_BODY = re.compile(
    r"\b(?:push(?:ing)?|walk(?:ing)?|work(?:ing)?|run(?:ning)?|train(?:ing)?|power(?:ing)?) through "
    r"(?:it|the (?:pain|discomfort|ache|injury)|pain)\b|\bignore the (?:pain|ache|symptoms)\b|"
    r"\bload (?:the|your) (?:knee|back|shoulder|ankle|hip|joint)\b",
    re.I,
)
_MEDICATION = re.compile(r"\b(?:medication|medicine|meds|tablets|pills|prescription|dose|inhaler|insulin)\b", re.I)
STOP_IT = re.compile(
    r"(?:^|[,;:]\s*|\b(?:and|then|just|simply|so)\s+)(?:stop|quit|come off|skip|halve|double|cut)\s+"
    r"(?:taking\s+|using\s+)?(?:it|them|those|these)\b",
    re.I,
)
GUARANTEE = re.compile(
    r"\b(?:guarantee[sd]?|guaranteeing|I promise|we promise|(?:is|are) certain to|will (?:definitely|certainly|"
    r"surely|undoubtedly)|(?:can(?:no|')t|cannot|won't) (?:fail|go wrong|lose)|bound to (?:work|succeed|happen)|"
    r"100 ?(?:%|per ?cent)|without (?:a|any) doubt|no doubt (?:you|it|this)|"
    r"(?:everything|it all|things) will (?:work out|be (?:fine|okay|ok|alright|all right))|rest assured|"
    r"you will (?:succeed|be happy|be happier|be fine|feel better|get (?:it|the job|there)|never regret))\b",
    re.I,
)
_NEGATED_NEAR = re.compile(r"\b(?:not|no|never|n't|nor|without|isn't|wasn't|aren't)\b(?:\W+\w+){0,2}\W*$", re.I)
_NO_GUARANTEE = re.compile(
    r"\b(?:no|not|nothing|never|n't|without|can't|cannot)\b[^.]{0,25}$|\b(?:almost|nearly|practically|virtually)\s+$",
    re.I,
)
TONE = re.compile(  # contempt no kind editor lets through
    r"\b(?:how (?:that|it|this) looks|convenient (?:word|excuse|story)|most people would call (?:it|that)|"
    r"pathetic|lazy|laziness|spineless|weak-willed|selfish|shameful|disgrace\w*|embarrassing|ridiculous|"
    r"self-pity|feeling sorry for yourself|grow up|get a grip|man up|toughen up|pull yourself together|"
    r"get over it|snap out of|stop complaining|stop whining|your own fault|(?:only|no one but) yourself to blame|"
    r"should be ashamed|(?:a|total|complete) failure|loser|nobody cares|no one cares|childish|immature|"
    r"(?:just )?get on with it|enough is enough|no more excuses|quit (?:moping|stalling)|"
    r"(?:you|you're|you are) (?:just |simply )?(?:cowardly|a coward|stupid|foolish|useless))\b",
    re.I,
)
HARSH = re.compile(  # harsh only in company: a lead when it recurs
    r"\b(?:excuses|whin\w+|moan\w*|wallow\w*|frankly|wake up|stop waiting|drifting|(?:you|you're|you are) "
    r"(?:just |simply )?(?:scared|naive|hopeless))\b",
    re.I,
)
DRASTIC = re.compile(
    r"(?:^|[.;:!?]\s*|,\s*|\b(?:so|and|just|then|simply)\s+|\byou (?:should|must|need to|have to|ought to)\s+)"
    r"(?:quit|resign(?: from)?|hand in your notice|leave (?:him|her|them|your (?:job|partner|husband|wife|marriage)|"
    r"the (?:job|relationship|marriage))|walk (?:out|away)|move out|sell (?:the|your) (?:house|flat|home)|"
    r"cut (?:them|him|her) (?:off|out)|divorce|break up)\b[^.;!?]{0,60}?"
    r"\b(?:tomorrow|today|tonight|now|immediately|this week|right away|at once|straight away|on monday)\b",
    re.I,
)
_QUIT_NOW = re.compile(
    r"\b(?:quit|resign|hand in your notice)\b[^.;!?]{0,40}\b(?:tomorrow|today|tonight|now|immediately)\b", re.I
)
MINIMISE = re.compile(
    r"\b(?:every(?:one|body| \w+) (?:feels|goes through|gets|has|struggles)(?: like)? (?:this|that|down)|"
    r"just a (?:phase|bad patch|rough patch|blip)|(?:anything|something) to worry about|healthy release|"
    r"(?:completely|perfectly|totally|quite|entirely) normal|most people (?:go through|feel|have)|"
    r"(?:usually |will |it )?pass(?:es)? on (?:its|their) own|"
    r"not (?:that|so) (?:bad|serious)|(?:cheer|perk) up|look on the bright side|snap out of|shake it off|"
    r"(?:probably|surely) (?:just|only) (?:tired|stress|stressed)|(?:nothing|not something) to worry about|"
    r"don't dwell|try not to think about it|(?:it'?s|this is) (?:perfectly )?normal to feel|you'?ll be fine|"
    r"it will pass|it'll pass|these feelings will pass|a good night'?s sleep|count your blessings|"
    r"others have it worse)\b",
    re.I,
)
WITHDRAW = re.compile(
    r"\b(?:time (?:alone|on your own|away from (?:everyone|people|others|friends|family))|"
    r"(?:step|pull|stay|keep) (?:back|away) from (?:people|everyone|others|friends|family)|"
    r"(?:cut|shut) (?:yourself|people|everyone) (?:off|out)|withdraw(?:ing)? from|isolat\w+ yourself|"
    r"keep (?:it|this|things) to yourself|(?:don't|do not|no need to) (?:tell|burden|bother) (?:anyone|others|people)|"
    r"distance yourself|space from (?:everyone|people|others)|be alone|go it alone|"
    r"handle (?:it|this) (?:alone|yourself))\b",
    re.I,
)
IMMEDIATE = re.compile(
    r"\b(?:crisis (?:line|service|team|text)|helpline|hotline|lifeline|samaritans|emergency|988|116 ?123|111|999|"
    r"911|112|A&E|today|tonight|right now|now|straight away|immediately|urgent\w*|this week)\b",
    re.I,
)
CAREER_MONEY = re.compile(
    r"\b(?:career|job|promotion|salary|income|money|budget|savings|debt|finances?|cv|résumé|resume|"
    r"interview|business|pay rise|raise)\b",
    re.I,
)


def check(subject: Subject) -> LayerResult:
    view = subject.view
    own_words = subject.facts.answered_text.casefold()
    findings = _directives(view, subject.facts.answered_plain) + _guarantees(view) + _tone(view, own_words)
    findings += _drastic(view) + _unsafe(view, own_words)
    if CRISIS.search(subject.facts.answered_text):
        findings += crisis_handling(view, own_words)
    return outcome(LAYER, findings, ok="no directives, diagnoses or guarantees; the tone is kind")


def _lead(strength: float, message: str, category: Category, quote: str) -> Finding:
    return Finding(strength, message, kind="suspicion", category=category, quote=quote)


def _directives(view: ReportView, own_words: str) -> list[Finding]:
    found: dict[tuple[str, str], Finding] = {}  # one finding per place and kind, in reading order
    for passage in view.passages():
        for sentence in sentences(passage.text):
            plain_sentence = normalise(sentence)
            if DIAGNOSIS.search(plain_sentence):
                message = f"{passage.where} gives a diagnosis; encourage professional advice instead"
                found[(passage.where, "diagnosis")] = _lead(0.8, message, Category.DIAGNOSIS, sentence)
            for label, pattern in DIRECTIVES:
                if any(_told(plain_sentence, match, own_words) for match in pattern.finditer(plain_sentence)):
                    message = f"{passage.where} gives {label}; encourage professional advice instead"
                    found[(passage.where, label)] = _lead(0.8, message, Category.DIRECTIVE, sentence)
    return list(found.values())


def _told(sentence: str, match: re.Match[str], own_words: str) -> bool:
    """The report itself tells them to do it: not their own words quoted back, not care, not a description."""
    if f" {plain(match.group(0))} " in own_words or _is_care(sentence, match):
        return False
    verb = match.group(0).split()
    # An -ing form opening a clause describes ("…, paying off a loan"); told, it follows advice ("try paying").
    return not (verb and verb[0].casefold().endswith("ing") and not re.search(_ADVICE, match.group(0), re.I))


def _is_care(sentence: str, match: re.Match[str]) -> bool:
    """Negated, or sending them to a professional, within the directive's own clause."""
    edges = [m for m in _CLAUSE_EDGE.finditer(sentence) if m.end() <= match.start() + 2]
    start = edges[-1].end() if edges else 0
    after = _CLAUSE_EDGE.search(sentence, match.end())
    clause = sentence[start : after.start() if after else len(sentence)]
    return bool(_NEGATED.search(sentence[start : match.end()]) or _DEFERS.search(clause))


def _sentences(view: ReportView) -> list[tuple[str, str]]:
    return [(passage.where, sentence) for passage in view.passages() for sentence in sentences(passage.text)]


def _guarantees(view: ReportView) -> list[Finding]:
    return [
        _lead(0.8, f"{where} promises an outcome; nothing here can be guaranteed", Category.GUARANTEE, sentence)
        for where, sentence in _sentences(view)
        for pattern in (GUARANTEE, PROMISE)
        for match in pattern.finditer(normalise(sentence))
        if not _NO_GUARANTEE.search(normalise(sentence)[: match.start()])
    ][:3]


def _unsafe(view: ReportView, own_words: str) -> list[Finding]:
    """Telling them to push through pain or injury, or to stop a medication ("stop taking it")."""
    found = []
    for where, sentence in _sentences(view):
        text = normalise(sentence)
        medication = _MEDICATION.search(text) and _said(STOP_IT, sentence, own_words)
        if medication or _said(UNSAFE_BODY, sentence, own_words):
            found.append(_lead(0.8, f"{where} gives an unsafe health directive", Category.DIRECTIVE, sentence))
    return found


def _tone(view: ReportView, own_words: str) -> list[Finding]:
    said = _sentences(view)
    strong = [(where, sentence) for where, sentence in said if _said(TONE, sentence, own_words)]
    harsh = [(where, sentence) for where, sentence in said if _said(HARSH, sentence, own_words)]
    strength = 0.8 if len(strong) >= 2 else 0.7 if strong else 0.6 if len(harsh) >= 3 else 0.3
    hits = strong or harsh
    return [_lead(strength, f"{where} is judgemental or demeaning; be kind", Category.TONE, s) for where, s in hits][:3]


def _drastic(view: ReportView) -> list[Finding]:
    return [
        _lead(0.8 if _QUIT_NOW.search(normalise(s)) else 0.6,
              f"{where} urges a drastic step at once; leave such decisions to them", Category.DIRECTIVE, s)
        for where, s in _sentences(view)
        if DRASTIC.search(normalise(s))
    ]  # fmt: skip


def crisis_handling(view: ReportView, own_words: str = "") -> list[Finding]:
    """The answers signal a crisis: the report acknowledges it, points to immediate support near the start,
    never minimises it, never advises withdrawing, never leads with career or money."""
    opening = next(iter(sentences(view.summary)), view.summary) or view.title
    findings: list[Finding] = []
    helped = [p for p in view.passages() if HELP.search(p.text)]
    if not helped:
        message = ("the answers signal a crisis and the report does not respond: acknowledge it plainly and point "
                   "to immediate support (a crisis line, the emergency number, a doctor)")  # fmt: skip
        findings.append(_lead(1.0, message, Category.CRISIS, opening))
    else:
        early = f"{view.summary} " + " ".join(f"{s.action} {s.why}" for s in view.next_steps[:1])
        if not (HELP.search(early) and IMMEDIATE.search(early)):
            message = "the pointer to immediate support for the crisis belongs in the summary or the first next step"
            findings.append(_lead(0.6, message, Category.CRISIS, opening))
    for where, sentence in _sentences(view):
        if _said(MINIMISE, sentence, own_words):
            findings.append(_lead(0.9, f"{where} minimises what they wrote", Category.CRISIS, sentence))
        if _said(WITHDRAW, sentence, own_words):
            findings.append(_lead(0.9, f"{where} advises withdrawing from people", Category.CRISIS, sentence))
    first = view.next_steps[0].action if view.next_steps else ""
    if first and CAREER_MONEY.search(first) and not HELP.search(first):
        findings.append(_lead(0.7, "next step 1 leads with career or money", Category.CRISIS, first))
    return findings


def _said(pattern: re.Pattern[str], sentence: str, own_words: str) -> bool:
    """The report says it itself: not negated, not their own words quoted back."""
    text = normalise(sentence)
    return any(
        match.group(0).casefold() not in own_words and not _NEGATED_NEAR.search(text[: match.start()])
        for match in pattern.finditer(text)
    )
