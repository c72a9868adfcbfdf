"""A clone of the repository is all the tests have: nothing under tests/ may point outside it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
TEXT_SUFFIXES = {".py", ".json", ".txt", ".md", ".toml", ".yaml", ".yml", ".ini", ".cfg", ".sh"}
# System folders a test may legitimately name (CA bundles, temporary files, devices).
SYSTEM = tuple(Path(p) for p in ("/etc", "/usr", "/tmp", "/dev", "/proc", "/sys", "/bin", "/lib", "/var"))


def _files() -> list[Path]:
    this = Path(__file__).resolve()  # the guard's own examples of what it catches
    return sorted(p for p in TESTS.rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES and p != this)


def _outside(text: str, base: Path) -> Path | None:
    """Where a path-like string leads when it leaves the repository for something that exists.

    System folders named absolutely (CA bundles, devices) are about the machine, not the clone: fine. A relative
    path may climb into a system folder (the hostile `../../etc/passwd` of a traversal test), but not into the
    one the clone lives in: beside a clone under /tmp, /tmp/shared is as foreign as anywhere else.
    """
    if "/" not in text or "\n" in text or len(text) > 300:
        return None
    absolute = text.startswith("/")
    for start in [Path("/")] if absolute else [base, ROOT]:
        candidate = (start / text).resolve()
        system = any(candidate.is_relative_to(s) and (absolute or not ROOT.is_relative_to(s)) for s in SYSTEM)
        if candidate != Path("/") and not system and not candidate.is_relative_to(ROOT) and candidate.exists():
            return candidate
    return None


def _climb(node: ast.AST) -> int | None:
    """How many folders `Path(__file__)…parents[N]` / `.parent` chains climb from the file, if this is one."""
    climbed = 0
    while True:
        if isinstance(node, ast.Attribute) and node.attr == "parent":
            climbed, node = climbed + 1, node.value
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "parents"
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, int)
        ):
            climbed, node = climbed + node.slice.value + 1, node.value.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "resolve":
            node = node.func.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Path":
            is_file = len(node.args) == 1 and isinstance(node.args[0], ast.Name) and node.args[0].id == "__file__"
            return climbed if is_file and climbed else None
        else:
            return None


def escapes(path: Path, text: str) -> list[str]:
    """Every place in one file that leads outside the repository."""
    found = [f"{s!r} -> {hit}" for s in _strings(path, text) if (hit := _outside(s, path.parent))]
    if path.suffix != ".py":
        return found
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Attribute) and node.attr == "parent" and isinstance(node.value, ast.Name):
            if node.value.id == "ROOT":
                found.append(f"line {node.lineno}: ROOT.parent")
        climbed = _climb(node)
        if climbed is not None and not path.parents[climbed - 1].is_relative_to(ROOT):
            found.append(f"line {getattr(node, 'lineno', '?')}: climbs {climbed} folders, above the root")
    return found


def _strings(path: Path, text: str) -> list[str]:
    if path.suffix != ".py":
        return [word.strip("\"',()[]") for word in text.split()]
    return [n.value for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(TESTS)))
def test_no_test_file_names_a_path_outside_the_repository(path: Path) -> None:
    found = escapes(path, path.read_text(encoding="utf-8", errors="replace"))
    assert not found, f"{path.relative_to(ROOT)} reaches outside the repository: {found}"


def test_the_guard_catches_climbing_out_of_the_repository() -> None:
    stub = TESTS / "stubs" / "stripe.py"
    # The line the Stripe stub once had (put together here, so that this file names no such path itself).
    old = (
        "FIXTURES = Path(__file__).resolve().parents[2].parent / "
        + " / ".join(['"shared"', '"fixtures"', '"stripe"'])
        + "\n"
    )
    assert escapes(stub, old)
    assert escapes(stub, "DATA = ROOT.parent / 'fixtures'\n")
    assert escapes(stub, 'DATA = "../../.."\n')  # the folder that holds the clone
    assert not escapes(stub, 'HOSTILE = "../../etc/passwd"\nFIXTURES = Path(__file__).resolve().parents[1]\n')
