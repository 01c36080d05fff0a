"""Class descriptions with the real all-MiniLM-L6-v2 model: similarity, zero-shot, the
description cold start through the learner and simulate, the hand-over rule, bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from alwidgets import ActiveLearner, InvalidInputError, UnknownLabelError, simulate
from alwidgets.features import (
    TextFeatures,
    out_of_fold_predictions,
    prefer_model,
    zero_shot,
)

DESCRIPTIONS = {
    "pets": "a sentence about pets: cats, dogs and other animals at home",
    "money": "a sentence about money: banks, prices, salaries and stocks",
    "weather": "a sentence about the weather: rain, snow, sun and storms",
}
TEXTS = {
    "pets": [
        "my cat sleeps on the sofa all afternoon",
        "we adopted a puppy from the shelter",
        "the kitten chased a ball of wool",
        "our dog barks at the postman every morning",
        "she feeds the goldfish before school",
        "the parrot learned to say hello",
    ],
    "money": [
        "the bank raised its interest rates again",
        "stock prices fell sharply on Monday",
        "he asked his boss for a higher salary",
        "groceries cost twice as much as last year",
        "she saved enough to pay off the mortgage",
        "the company's shares doubled in value",
    ],
    "weather": [
        "heavy rain flooded the streets last night",
        "it snowed twenty centimetres in the mountains",
        "a storm knocked down trees along the coast",
        "tomorrow will be sunny and warm",
        "thick fog delayed every flight this morning",
        "the wind was so strong we stayed inside",
    ],
}
POOL = [t for texts in TEXTS.values() for t in texts]
Y = np.array([c for c, texts in TEXTS.items() for _ in texts])


@pytest.fixture
def features(embeddings_installed: None, tmp_path: Path) -> TextFeatures:
    return TextFeatures(cache_dir=tmp_path / "cache", progress=False)


def _model(features: TextFeatures) -> object:
    return make_pipeline(features, LogisticRegression(C=10, max_iter=1000))


def test_similarity_has_one_column_per_description_in_dict_order(features: TextFeatures) -> None:
    S = features.similarity(POOL, DESCRIPTIONS)
    assert S.shape == (len(POOL), 3) and S.dtype == np.float64
    assert np.all(S <= 1 + 1e-6) and np.all(S >= -1 - 1e-6)
    classes = np.array(list(DESCRIPTIONS))
    assert (classes[S.argmax(axis=1)] == Y).mean() >= 0.9  # the meaning is in the embedding
    reordered = {k: DESCRIPTIONS[k] for k in ["weather", "pets", "money"]}
    np.testing.assert_allclose(features.similarity(POOL, reordered), S[:, [2, 0, 1]], atol=1e-6)
    # cosine of unit embeddings: the same as embedding both sides
    emb = features.embed(POOL).astype(np.float64)
    desc = features.embed(list(DESCRIPTIONS.values())).astype(np.float64)
    np.testing.assert_allclose(S, emb @ desc.T, atol=1e-6)


def test_zero_shot_suggests_a_class_and_a_score(features: TextFeatures) -> None:
    guess = zero_shot(POOL, DESCRIPTIONS, features=_model(features))
    assert guess.label.shape == (len(POOL),) and guess.label.dtype.kind == "U"
    assert guess.accuracy(Y) >= 0.9
    np.testing.assert_allclose(guess.score, guess.similarity.max(axis=1))
    assert guess.accuracy(Y[:3], positions=[0, 1, 2]) == (guess.label[:3] == Y[:3]).mean()


def test_description_cold_start_covers_every_class(features: TextFeatures) -> None:
    learner = ActiveLearner(_model(features), random_state=0, descriptions=DESCRIPTIONS)
    first = learner.query(POOL, 6)
    assert learner.last_strategy_ == "describe"
    assert sorted(np.bincount(np.unique(Y, return_inverse=True)[1][first]).tolist()) == [2, 2, 2]
    # without descriptions the cold start is TypiClust, which knows nothing of the classes
    plain = ActiveLearner(_model(features), random_state=0)
    plain.query(POOL, 6)
    assert plain.last_strategy_ == "cold_start"


def test_descriptions_are_training_rows_unless_switched_off(features: TextFeatures) -> None:
    first = [0, 6]  # one pets and one money text: no weather label yet
    learner = ActiveLearner(_model(features), descriptions=DESCRIPTIONS)
    learner.fit([POOL[i] for i in first], Y[first], X_unlabeled=POOL)
    assert learner.classes_.tolist() == ["money", "pets", "weather"]  # weather from its row
    assert learner.predict([DESCRIPTIONS["weather"]]).tolist() == ["weather"]
    bare = ActiveLearner(_model(features), descriptions=DESCRIPTIONS, train_on_descriptions=False)
    bare.fit([POOL[i] for i in first], Y[first], X_unlabeled=POOL)
    assert bare.classes_.tolist() == ["money", "pets"]


def test_simulate_starts_from_the_descriptions(features: TextFeatures) -> None:
    curve = simulate(
        _model(features),
        POOL,
        Y,
        descriptions=DESCRIPTIONS,
        initial=3,
        batch_size=3,
        budget=6,
        test_size=0.25,
        random_state=0,
        progress=False,
    )
    assert curve["n_labels"].tolist() == [3, 6]
    assert curve["classes_seen"].tolist()[0] == 3  # one of each class in the first three
    assert curve["accuracy"].iloc[0] >= 0.5


def test_prefer_model_rule_and_out_of_fold_predictions(features: TextFeatures) -> None:
    guess = zero_shot(POOL, DESCRIPTIONS, features=features)
    oof = out_of_fold_predictions(_model(features), POOL, Y, cv=3)
    assert oof is not None and oof.shape == Y.shape
    choice = prefer_model(Y, oof, guess.label)
    assert choice.n_labels == len(Y) and choice.zero_shot_accuracy == guess.accuracy(Y)
    assert choice.use_model == (np.sum(oof == Y) > np.sum(guess.label == Y))
    assert "right on" in choice.reason
    # a model that is right more often takes over; a tie keeps zero-shot
    assert prefer_model(["a", "b"], ["a", "b"], ["a", "a"]).use_model
    assert not prefer_model(["a", "b"], ["a", "a"], ["b", "b"]).use_model
    assert out_of_fold_predictions(_model(features), POOL[:7], Y[:7]) is None  # one money text


@pytest.mark.parametrize(
    ("descriptions", "error", "match"),
    [
        (
            {"pets": "animals", "money": None, "weather": "rain"},
            InvalidInputError,
            "must be a string",
        ),
        ({"pets": "animals", "money": "  ", "weather": "rain"}, InvalidInputError, "is empty"),
        (
            {"pets": "animals", "money": "cash", "weather": "rain", "sport": "goals"},
            UnknownLabelError,
            r"unknown class\(es\) \['sport'\]",
        ),
        ({"pets": "animals", "money": "cash"}, InvalidInputError, r"no description for .*weather"),
        (["animals", "cash", "rain"], InvalidInputError, "must be a dict"),
    ],
)
def test_bad_descriptions_through_simulate(
    features: TextFeatures, descriptions: object, error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        simulate(_model(features), POOL, Y, descriptions=descriptions, progress=False)


def test_descriptions_need_a_model_that_can_embed(tmp_path: Path) -> None:
    tfidf = make_pipeline(TfidfVectorizer(), LogisticRegression())
    with pytest.raises(InvalidInputError, match="starts with TextFeatures"):
        simulate(tfidf, POOL, Y, descriptions=DESCRIPTIONS, progress=False)
    learner = ActiveLearner(tfidf, descriptions=DESCRIPTIONS)
    with pytest.raises(InvalidInputError, match="cannot embed text"):
        learner.query(POOL, 3)
    with pytest.raises(InvalidInputError, match="needs an embedding model"):
        TextFeatures(embeddings=None, cache_dir=False).similarity(POOL, DESCRIPTIONS)


def test_labels_without_a_description_are_refused(features: TextFeatures) -> None:
    learner = ActiveLearner(_model(features), descriptions={"pets": "animals", "money": "cash"})
    with pytest.raises(UnknownLabelError, match=r"labels \['weather'\] have no description"):
        learner.fit(POOL, Y)
