"""Pydantic models: questionnaire, API bodies, report."""

import re

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

# Unicode's control characters (category Cc: U+0000-001F, U+007F-009F) and surrogates (Cs): one regular
# expression finds them far faster than unicodedata.category() per character.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# The same without tab, line feed and carriage return, for text that may span lines.
CONTROL_CHARACTERS_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


class ApiModel(BaseModel):
    """Wire model: camelCase on the wire, unknown fields refused."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)
