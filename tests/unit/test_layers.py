"""The layering of `reckoning`, held by CI rather than stated in docstrings.

- only `db/` imports psycopg;
- the use cases (`domain/`) and the services they share (`domain/services/`) import nothing from the providers,
  the configuration, the composition root, the HTTP layer, AWS or a provider's SDK — not even lazily;
- the ports name no SDK;
- the providers import nothing from the quality gate (`validation/`).

Every import counts, at module level or inside a function.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "shared" / "reckoning"
SDKS = ("boto3", "botocore", "anthropic", "stripe", "resend", "httpx", "httpx2", "requests", "fpdf")
HTTP = ("reckoning.http", "reckoning.envelope", "reckoning.rate_limit", "aws_lambda_powertools.event_handler")


@dataclass(frozen=True)
class Rule:
    where: str  # a path under the package, a folder ending in "/" or one file
    forbidden: tuple[str, ...]  # module names (and everything below them)
    why: str

    def applies_to(self, relative: str) -> bool:
        return relative.startswith(self.where) if self.where.endswith("/") else relative == self.where


RULES = (
    Rule("domain/", ("reckoning.providers", "reckoning.config", "reckoning.bootstrap", *HTTP, *SDKS), "domain"),
    Rule("ports.py", SDKS, "ports name no SDK"),
    Rule("dependencies.py", ("reckoning.providers", "reckoning.config", *SDKS), "dependencies are types"),
    Rule("providers/", ("reckoning.validation",), "providers do not judge reports"),
)


def imported_modules(source: str, module: str) -> set[str]:
    """Every module a file imports, relative imports resolved against `module` (the file's dotted name)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.split(".")[: -node.level]
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _matches(name: str, forbidden: str) -> bool:
    return name == forbidden or name.startswith(forbidden + ".")


def violations(package: Path) -> list[str]:
    """`file: module (rule)` for every import that breaks a rule."""
    found: list[str] = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package).as_posix()
        module = "reckoning." + relative.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
        names = imported_modules(path.read_text(encoding="utf-8"), module)
        if not relative.startswith("db/"):
            found += [f"{relative}: {n} (only db/ imports psycopg)" for n in sorted(names) if _matches(n, "psycopg")]
        for rule in RULES:
            if rule.applies_to(relative):
                bad = sorted(n for n in names if any(_matches(n, f) for f in rule.forbidden))
                found += [f"{relative}: {name} ({rule.why})" for name in bad]
    return found


def test_the_package_keeps_its_layers() -> None:
    assert violations(PACKAGE) == []


@pytest.mark.parametrize(
    ("where", "source", "expected"),
    [
        ("domain/submit.py", "from reckoning.config import settings\n", "domain/submit.py: reckoning.config"),
        ("domain/services/pdfs.py", "def f():\n    import boto3\n", "domain/services/pdfs.py: boto3"),
        ("domain/report.py", "from reckoning.providers import storage\n", "reckoning.providers.storage"),
        ("domain/links.py", "from reckoning import http\n", "domain/links.py: reckoning.http"),
        ("domain/sweep.py", "from ..providers.queue import SqsQueue\n", "reckoning.providers.queue"),
        ("models/api.py", "import psycopg\n", "models/api.py: psycopg (only db/ imports psycopg)"),
        ("providers/claude.py", "from reckoning.validation import validate\n", "reckoning.validation"),
        ("ports.py", "from anthropic.types import Message\n", "ports.py: anthropic.types"),
    ],
)
def test_a_planted_violation_is_caught(where: str, source: str, expected: str, tmp_path: Path) -> None:
    planted = tmp_path / where
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.write_text(source, encoding="utf-8")

    found = violations(tmp_path)

    assert any(expected in line for line in found), found


def test_allowed_imports_pass(tmp_path: Path) -> None:
    (tmp_path / "domain").mkdir()
    (tmp_path / "domain" / "submit.py").write_text(
        "from reckoning.db import reckonings\nfrom reckoning.ports import Mailer\nfrom . import webhook\n",
        encoding="utf-8",
    )
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "connection.py").write_text("import psycopg\n", encoding="utf-8")

    assert violations(tmp_path) == []
