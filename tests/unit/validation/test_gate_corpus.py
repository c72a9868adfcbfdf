"""The gate over the blind corpus (issue 17): the tuning split's own bar, and nothing that refers to held-out.

`corpus.GATE_CORPUS` is the one place the corpus is named (tests/corpus/gate, or RECKONING_GATE_CORPUS).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reckoning import cli
from reckoning.validation.eval import evaluate
from tests.unit.validation.corpus import GATE_CORPUS

MIN_DETECTION, MIN_CERTAIN_DETECTION, MAX_FALSE_POSITIVES = 0.95, 0.95, 0.05
ROOT = Path(__file__).resolve().parents[3]

needs_corpus = pytest.mark.skipif(not (GATE_CORPUS / "reports").is_dir(), reason="the gate corpus is not here")


@needs_corpus
def test_the_tuning_split_meets_its_bar_offline() -> None:
    report = evaluate(GATE_CORPUS)
    print(report.table())
    assert report.detection.rate >= MIN_DETECTION, report.table()
    assert report.per_kind["certain"].rate >= MIN_CERTAIN_DETECTION, report.table()
    assert report.false_positives.rate <= MAX_FALSE_POSITIVES, report.table()


@needs_corpus
def test_the_eval_command_prints_json_and_fails_below_its_bar(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["eval", str(GATE_CORPUS), "--json", "--min-detection", "0.5", "--max-false-positives", "0.5"]) == 0
    assert '"perCategory"' in capsys.readouterr().out
    assert cli.main(["eval", str(GATE_CORPUS), "--min-detection", "1.01"]) == 1
    assert "bar not met" in capsys.readouterr().err


def test_no_tuning_code_or_fixture_refers_to_a_held_out_file() -> None:
    """The held-out split of the gate corpus is measured by others only: no file here may name it."""
    assert offenders(ROOT) == []


def offenders(root: Path) -> list[str]:
    """Code and fixtures under `root` that name a held-out file of the gate corpus (its own notes may)."""
    held_out = GATE_CORPUS.parent / ("held" + "_out")  # assembled, so this file names it nowhere itself
    names = [f"gate/{'held' + '_out'}", *(p.name for p in held_out.rglob("*.json"))]
    found = []
    for place in (root / "shared", root / "tests", root / "infra", root / "functions"):
        for path in place.rglob("*") if place.is_dir() else ():
            if (
                path.is_file()
                and path.suffix in {".py", ".json", ".toml", ".yaml", ".txt"}
                and held_out not in path.parents
            ):
                text = path.read_text(encoding="utf-8", errors="ignore")
                found += [f"{path.relative_to(root)}: {name}" for name in names if name in text]
    return found


def test_the_guard_finds_a_tuning_file_that_names_a_held_out_one(tmp_path: Path) -> None:
    leak = tmp_path / "tests" / "unit" / "validation" / "test_leak.py"
    leak.parent.mkdir(parents=True)
    leak.write_text(f"FIXTURE = 'tests/corpus/gate/{'held' + '_out'}/reports/x.json'\n", encoding="utf-8")
    assert offenders(tmp_path) != []
