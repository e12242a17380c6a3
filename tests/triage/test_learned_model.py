"""The learned triage model: the shipped file, safe loading, bounded prediction on odd
input, its contribution to the merge, and reproducible training."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from socialdesk.core.triage import TriageContribution, merge_triage
from socialdesk.plugins.triage.keyword_rules import DEFAULT_RULES, triage_text
from socialdesk.plugins.triage.learned import LearnedTriageSettings, base_model, contribution
from socialdesk.plugins.triage.model_file import (
    BASE_DATA_CARD_PATH,
    BASE_MODEL_PATH,
    ModelFileError,
    load_model_file,
    model_from_bytes,
)
from socialdesk.plugins.triage.text_features import analyse
from socialdesk.plugins.triage.training import Weighted, fit
from socialdesk.plugins.triage.training_data import load_examples
from tests.triage.tiny_data import write_tiny_data

ODD_INPUT = ["", "   ", "😡😡😡🙏", "x" * 10_000, "help " * 2_500, "Компания 公司 شركة company down!!!",
             "nul\x00bytes\x00inside", "\ud800 lone surrogate", "\u202eright-to-left override", "@@@@ ### http://",
             "a\u0301\u0301\u0301" * 500]


def test_the_base_model_ships_small_with_its_data_card():
    assert BASE_MODEL_PATH.stat().st_size <= 20_000_000
    card = BASE_DATA_CARD_PATH.read_text("utf-8")
    for source in ("banking77", "tweeteval", "sms_spam", "CC BY 4.0", "twitter_airline_sentiment"):
        assert source in card
    model = base_model()
    assert {h.name for h in model.heads} == {"urgency", "category", "sentiment", "needs_reply", "spam"}
    assert "delivery" in dict((h.name, h.labels) for h in model.heads)["category"]


@pytest.mark.parametrize("text", ODD_INPUT)
def test_odd_input_gets_a_verdict(text):
    prediction = base_model().predict(text)
    for probs in prediction.probabilities.values():
        assert abs(sum(probs.values()) - 1) < 1e-6 and all(0 <= p <= 1 for p in probs.values())
    verdict = contribution(prediction, LearnedTriageSettings(), "base")
    assert verdict.sentiment in ("negative", "neutral", "positive")


def test_a_long_mention_costs_no_more_features_than_its_opening():
    assert len(analyse("word " * 100_000)) == len(analyse("word " * 1_000))


@pytest.mark.parametrize(("text", "category"), [
    ("@bank someone got into my account and changed my password, I can't log in anymore", "account_security"),
    ("@shop I love you guys, but you charged my card twice for the same order", "billing"),
])
def test_what_keyword_rules_missed_is_urgent(text, category):
    model = base_model()
    verdict = contribution(model.predict(text), LearnedTriageSettings(), model.name)
    assert verdict.priority == 2
    assert verdict.category == category
    assert verdict.reasons[0].startswith("model base: urgent ")
    merged = merge_triage([verdict, triage_text(text, list(DEFAULT_RULES))])
    assert merged.priority <= 2 and merged.category == category  # not "praise, P4"


def test_admin_rules_beat_the_model_and_the_model_beats_builtin_lists():
    model_says = TriageContribution(category="billing", category_confidence=0.9, priority=2)
    builtin = triage_text("I love it", list(DEFAULT_RULES))
    assert merge_triage([model_says, builtin]).category == "billing"
    admin = triage_text("I love it", list(DEFAULT_RULES), confidence=1.0)
    assert merge_triage([model_says, admin]).category == "praise"


def test_a_thank_you_needs_no_reply_and_is_not_urgent():
    model = base_model()
    prediction = model.predict("thanks, that fixed it!")
    assert prediction.p("needs_reply", "reply") < 0.5
    assert contribution(prediction, LearnedTriageSettings(), model.name).priority is None


# --- unsafe or broken files -------------------------------------------------------------------


def test_missing_and_corrupt_files_name_the_file_and_the_fix(tmp_path):
    missing = tmp_path / "nowhere.npz"
    with pytest.raises(ModelFileError, match=r"nowhere\.npz: triage model file not found; run `socialdesk triage train`"):
        load_model_file(missing)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"\x00not a zip at all")
    with pytest.raises(ModelFileError, match=r"garbage\.npz: unreadable triage model .*socialdesk triage train"):
        load_model_file(garbage)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(BASE_MODEL_PATH.read_bytes()[:5000])
    with pytest.raises(ModelFileError, match="truncated.npz"):
        load_model_file(truncated)


def test_a_file_holding_pickled_objects_is_refused_not_unpickled(tmp_path):
    buffer = io.BytesIO()
    np.savez(buffer, vocabulary=np.array([object()], dtype=object), idf=np.ones(1), weights=np.ones((5, 2)),
             bias=np.ones(2), meta=np.frombuffer(b'{"format": 1, "heads": []}', dtype=np.uint8))
    with pytest.raises(ModelFileError, match="unreadable"):
        model_from_bytes(buffer.getvalue(), "evil.npz")


def test_arrays_that_do_not_fit_are_refused():
    model = base_model()
    broken = model_from_bytes(model.to_bytes(), "copy")  # a faithful copy loads...
    assert broken.predict("hello").probabilities == model.predict("hello").probabilities
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(model.to_bytes())) as source, zipfile.ZipFile(buffer, "w") as target:
        for item in source.namelist():
            data = source.read(item)
            if item == "bias.npy":
                arr = io.BytesIO()
                np.save(arr, np.ones(3, dtype=np.float32))
                data = arr.getvalue()
            target.writestr(item, data)
    with pytest.raises(ModelFileError, match="corrupt triage model"):
        model_from_bytes(buffer.getvalue(), "copy")


# --- training -----------------------------------------------------------------------------------


def test_training_is_deterministic_given_the_seed(tmp_path):
    data = write_tiny_data(tmp_path)
    rows = [Weighted(e) for e in load_examples(data, seed=3) if e.split == "train"]
    first, second = fit(rows, seed=3), fit(rows, seed=3)
    assert first.vocabulary == second.vocabulary
    assert np.array_equal(first.weights, second.weights) and np.array_equal(first.bias, second.bias)
    path = tmp_path / "m.npz"
    first.save(path)
    again = load_model_file(path)
    assert again.predict("my card was stolen").probabilities == first.predict("my card was stolen").probabilities
    assert again.predict("my card was stolen").p("urgency", "urgent") > 0.5


def test_missing_data_sets_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing banking77"):
        load_examples(Path(tmp_path), seed=1)


# --- settings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("settings", "expected"), [
    ({"page_at": 0.5, "urgent_at": 0.6}, "page_at must not be below urgent_at"),
    ({"retrain_every": "7d"}, "retrain_every needs training_data"),
    ({"retrain_every": "weekly", "training_data": "/data"}, "retrain_every 'weekly': use a duration such as '7d'"),
    ({"urgent_at": 1.5}, "less than or equal to 1"),
])
def test_bad_settings_name_the_key_and_the_fix(settings, expected):
    from socialdesk.core.config import ConfigError, parse_config
    from socialdesk.core.plugin_catalog import discover_plugins

    with pytest.raises(ConfigError) as info:
        parse_config({"plugins": {"learned_triage": settings}}, discover_plugins())
    lines = "\n".join(info.value.lines())
    assert "plugins.learned_triage" in lines and expected in lines


def test_a_scheduled_retrain_is_registered_only_when_asked(tmp_path):
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from socialdesk.core.config import parse_config
    from socialdesk.core.plugin_catalog import discover_plugins
    from socialdesk.plugins.triage.learned import socialdesk_register_jobs

    class _App:
        def __init__(self, raw):
            self.config = parse_config(raw, discover_plugins())

        def settings(self, name):
            return self.config.settings(name)

    scheduler = AsyncIOScheduler()
    socialdesk_register_jobs(scheduler, _App({}))
    assert scheduler.get_jobs() == []
    socialdesk_register_jobs(scheduler, _App({"plugins": {"learned_triage": {
        "retrain_every": "24h", "training_data": str(tmp_path)}}}))
    [job] = scheduler.get_jobs()
    assert job.id == "learned_triage_retrain" and job.trigger.interval.total_seconds() == 86_400


@pytest.mark.parametrize("text", [*ODD_INPUT, "@acme my card was charged twice!! order #12345 https://t.co/x 😡",
                                  "the the the app app crashes crashes"])
def test_prediction_reads_the_same_features_as_training(text):
    # Prediction remembers each word's feature indices; the vector must stay the one
    # scikit-learn was trained on (analyse: repeats counted, sublinear TF-IDF, L2).
    model = base_model()
    known = [i for i in map(model._index.get, analyse(text)) if i is not None]
    idx, tf = np.unique(np.array(known, dtype=np.int64), return_counts=True)
    values = (1 + np.log(tf.astype(np.float32))) * model.idf[idx]
    if len(values):
        values /= np.linalg.norm(values)
    for _ in range(2):  # the second time from the remembered words
        got_idx, got_values = model.features(text)
        assert got_idx.tolist() == idx.tolist()
        np.testing.assert_allclose(got_values, values, rtol=1e-5)


def test_remembered_words_are_bounded(monkeypatch):
    from socialdesk.plugins.triage import model_file

    monkeypatch.setattr(model_file, "TOKEN_CACHE_SIZE", 50)
    model = load_model_file(BASE_MODEL_PATH)
    before = model.predict("my order is late").probabilities
    model.predict(" ".join(f"madeup{i}word" for i in range(150)))
    assert len(model._tokens) <= 50
    assert model.predict("my order is late").probabilities == before
