"""`python -m tests.bench --compare`: two runs' figures side by side."""

import json
from pathlib import Path

import pytest

from tests.bench import compare


def run(path: Path, **figures: float | str) -> Path:
    path.write_text(json.dumps({"figures": {"warm_request": {"GET /api/report/{token}": figures}}}))
    return path


def test_each_figure_both_runs_measured_is_shown_with_its_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = run(tmp_path / "before.json", handler_ms=2.0, sql_ms=0.5, heavy="-")
    after = run(tmp_path / "after.json", handler_ms=3.0, ratio=6.0)

    compare(before, after)

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["figure", "before", "after", "change"]
    assert lines[1:] == [f"{'warm_request / GET /api/report/{token} / handler_ms':<58} {2:>12} {3:>12} {'+50%':>8}"]
