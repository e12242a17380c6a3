"""openai is the optional `drafts` extra, read through the same mechanism as the digest's
matplotlib: enabling drafts without it is refused by `socialdesk check` naming the extra;
a desk without drafts never needs it. Training the triage model names its `train` extra."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from socialdesk.plugins.triage import training
from tests.test_cli import cli, upgraded, write_config

DRAFTS_ON = '[plugins.drafts]\nenabled = true\nbase_url = "https://llm.example/v1"\nmodel = "m"\n'
REFUSAL = ("plugins.drafts: needs the optional extra 'drafts' (openai not installed): "
           "pip install 'socialdesk[drafts]', or set enabled = false")


def _blocked(monkeypatch: pytest.MonkeyPatch, top: str) -> None:
    """As if ``top``'s extra were not installed: importing it fails."""
    for name in [m for m in sys.modules if m == top or m.startswith(f"{top}.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, top, None)


def test_check_names_the_missing_extra_when_drafts_are_enabled(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _blocked(monkeypatch, "openai")
    code, out, err = cli(capsys, "--config", write_config(tmp_path, DRAFTS_ON), "check")
    assert code != 0 and out == ""
    assert err.splitlines() == [f"{tmp_path / 'plugins.toml'}: {REFUSAL}"], err


def test_a_desk_without_drafts_needs_no_openai(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _blocked(monkeypatch, "openai")
    code, out, err = cli(capsys, "--config", upgraded(write_config(tmp_path)), "check")
    assert code == 0 and err == "" and ", drafts" not in out


def test_training_without_scikit_learn_names_the_train_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    _blocked(monkeypatch, "sklearn")
    with pytest.raises(training.TrainingUnavailable) as refused:
        training._sklearn()
    assert str(refused.value) == ("training needs the optional extra 'train' (sklearn not installed): "
                                  "pip install 'socialdesk[train]'")
