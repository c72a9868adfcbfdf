"""Plain-text helpers shared by the layers: words, stems, sentences, paragraphs.

Deliberately simple and deterministic; word matching is Unicode-aware so Greek,
Cyrillic or accented answers work, while the stop-word lists are English.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")
_ABBREVIATIONS = re.compile(r"\b(?:e\.g|i\.e|a\.m|p\.m|etc|vs|Dr|Mr|Mrs|Ms|St|approx)\.", re.IGNORECASE)
SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'\u201d\u2019»)\]]*\s+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_CLOSERS = "\"'\u201d\u2019»)]*_ "
_FINAL_PUNCTUATION = ".!?…"

STOPWORDS = frozenset(
    """
    a about above after again against all almost also am an and any are as at be because been before being
    below between both but by can could did do does doing done down during each either else enough even
    ever every few for from further get gets got had has have having he her here hers herself him himself his
    how i if in into is it its itself just least less let like made make many may me might more most much
    must my myself neither no nor not now of off often on once one only or other others our ours ourselves
    out over own per quite rather really same she should since so some still such than that the their theirs
    them themselves then there these they this those though through thus to too under until up upon us very
    was we were what whatever when where whether which while who whom whose why will with within without
    would yet you your yours yourself yourselves i'm it's that's don't can't won't i've i'd you're you've
    isn't didn't doesn't wasn't aren't
    """.split()
)

# Words so common in any life stock-take that sharing them proves nothing about grounding.
GENERIC_WORDS = frozenset(
    """
    life lives work working time times feel feels feeling felt want wants wanted thing things know year years
    week weeks month months day days good better best bad more most well right back going need needs needed
    think thought something someone anything everything nothing people person lot lots little always never
    every first last next way ways keep kept new old still around mostly sure maybe want able being part
    start started change changes changing honest honestly matter matters really actually whole today
    """.split()
)

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50,
}  # fmt: skip


def normalise(text: str) -> str:
    """NFC, typographic apostrophes made plain, so comparisons do not depend on how text was typed."""
    return unicodedata.normalize("NFC", text).replace("\u2019", "'")


def words(text: str) -> list[str]:
    """Words (letters only, apostrophes kept inside), in their original case."""
    return _WORD.findall(normalise(text))


_ADDRESSES = re.compile(r"\S+@\S+|\b(?:https?://|www\.)\S+")


def plain(text: str) -> str:
    """Words only, case-folded, with addresses and links left out (a report never repeats those): how a
    passage is compared with the person's own words to see whether it quotes them."""
    return " ".join(w.casefold() for w in words(_ADDRESSES.sub(" ", text)))


def stem(word: str) -> str:
    """A crude, language-neutral stem: the first five letters, case-folded ("training" ~ "trained")."""
    return word.casefold().removesuffix("'s")[:5]


def content_stems(text: str) -> set[str]:
    """Stems of the words in `text` that carry meaning: four letters or more, no stop words, no generic life words."""
    folded = (word.casefold() for word in words(text))
    return {stem(word) for word in folded if len(word) >= 4 and word not in STOPWORDS and word not in GENERIC_WORDS}


def sentences(text: str) -> list[str]:
    """Sentences, split after . ! ? … (common abbreviations are not sentence ends)."""
    protected = _ABBREVIATIONS.sub(lambda m: m.group(0).replace(".", "\u2024"), text.strip())
    parts = SENTENCE_END.split(protected)
    return [p.replace("\u2024", ".").strip() for p in parts if p.strip()]


def paragraphs(text: str) -> list[str]:
    """Paragraphs: blocks separated by a blank line."""
    return [p.strip() for p in _PARAGRAPH_BREAK.split(text) if p.strip()]


def ends_a_sentence(text: str) -> bool:
    """True when the text ends with sentence-final punctuation (closing quotes and brackets allowed)."""
    stripped = text.rstrip().rstrip(_CLOSERS)
    return bool(stripped) and stripped[-1] in _FINAL_PUNCTUATION


def number_value(token: str) -> float | None:
    """A number written in digits or as an English word ("three"), else None."""
    try:
        return float(token.replace(",", "."))
    except ValueError:
        return _NUMBER_WORDS.get(token.casefold())


NUMBER_PATTERN = r"(\d+(?:[.,]\d+)?|" + "|".join(_NUMBER_WORDS) + r")"


_GREEK = dict(
    zip("αβγδεζηθικλμνξοπρσςτυφχψω", "a v g d e z i th i k l m n x o p r s s t y f ch ps o".split(), strict=True)
)
_CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e e zh z i i k l m n o p r s t u f kh ts ch sh shch - y - e yu ya".split(),
        strict=True,
    )
)
_TRANSLITERATION = str.maketrans(_GREEK | _CYRILLIC)


_POSSESSIVE = re.compile(r"['\u2019]s$", re.IGNORECASE)


def fold_name(name: str) -> str:
    """A name reduced for comparison: no case, no accents, Greek and Cyrillic spelt in Latin
    ("Zoë" ~ "Zoe", "Ольга" ~ "Olga", "Δημήτρης" ~ "Dimitris")."""
    name = _POSSESSIVE.sub("", name)  # "Zoë's" is Zoë
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # "-" stands for the silent Cyrillic signs, and joins double names ("Anne-Marie" ~ "Annemarie").
    return bare.translate(_TRANSLITERATION).replace("-", "")
