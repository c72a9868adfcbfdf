"""Pydantic models: questionnaire, API bodies, report."""

import re

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

# Unicode's control characters (category Cc: U+0000-001F, U+007F-009F) and surrogates (Cs): one regular
# expression finds them far faster than unicodedata.category() per character.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# The same without tab, line feed and carriage return, for text that may span lines.
CONTROL_CHARACTERS_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


# What validation accepts, spelled for a JSON Schema (the OpenAPI document): the characters str.strip() takes
# off and the control characters refused, listed (Python's \s and ECMAScript's differ), and an end that is
# the end in both (Python's $ also matches before a final newline). Surrogates cannot be described (JSON
# Schema validators built on Rust reject them in a pattern); validation refuses them all the same.
SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
CONTROL = r"\x00-\x1f\x7f-\x9f"
CONTROL_BUT_LINES = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
SPACE_NOT_CONTROL = r" \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
END = r"$(?!\n)"


class ApiModel(BaseModel):
    """Wire model: camelCase on the wire, unknown fields refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)
