"""The questionnaire versions this build serves and reads: `<version>.json` each, `current.json` naming the one
new submissions use. A stored submission is read against the version it was submitted with."""

from __future__ import annotations

import json
from functools import cache, cached_property
from importlib.resources import files
from importlib.resources.abc import Traversable

from reckoning.errors import PermanentFailure
from reckoning.models.questionnaire import Questionnaire


class UnknownQuestionnaire(PermanentFailure):
    """This questionnaire version is not in this build."""


class Questionnaires:
    """The versions in one folder: `<version>.json` each, and `current.json` naming the current one."""

    def __init__(self, folder: Traversable) -> None:
        self.folder = folder
        self._loaded: dict[str, Questionnaire] = {}

    def versions(self) -> list[str]:
        names = (entry.name for entry in self.folder.iterdir() if entry.name.endswith(".json"))
        return sorted(name.removesuffix(".json") for name in names if name != "current.json")

    @cached_property
    def current_version(self) -> str:
        return str(json.loads(self.folder.joinpath("current.json").read_text(encoding="utf-8"))["current"])

    def current(self) -> Questionnaire:
        return self.version(self.current_version)

    def version(self, version: str) -> Questionnaire:
        if version not in self._loaded:
            if version not in self.versions():  # only names read from the folder reach the file system
                raise UnknownQuestionnaire(f"questionnaire {version!r} is not in this build", kind="questionnaire")
            raw = self.folder.joinpath(f"{version}.json").read_text(encoding="utf-8")
            questionnaire = Questionnaire.model_validate_json(raw)
            if questionnaire.version != version:
                raise ValueError(f"{version}.json holds version {questionnaire.version}")
            self._loaded[version] = questionnaire
        return self._loaded[version]


@cache
def served() -> Questionnaires:
    """The versions this build serves and reads, shipped inside the package."""
    return Questionnaires(files("reckoning").joinpath("questionnaires"))


def current() -> Questionnaire:
    return served().current()
