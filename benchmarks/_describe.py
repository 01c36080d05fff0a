"""The first labels from class descriptions: the runs and tables of ``bench_text``'s first part.

Every run is the path a new user takes: raw texts and
``make_pipeline(TextFeatures(), LogisticRegression(C=10))`` through the one oracle loop
(:func:`alwidgets.simulation.run_oracle_loop`), batches of 10 up to 100 labels, test
accuracy and macro-F1 at 10, 20, 50 and 100 labels, 5 seeds (each fixes a stratified
25 % test split, the random picks and the learner's seed).

Descriptions were written as a user would: from the class names and a glance at about
ten items of each class, never tuned on labels or on these results (the UCLA ones after
reading ten course titles per subject, in one pass; the first draft of the spam ones is
kept to show what a description written before reading any item costs).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from alwidgets._utils import take_rows
from alwidgets.features import TextFeatures, out_of_fold_predictions, prefer_model, zero_shot
from alwidgets.simulation import run_oracle_loop
from alwidgets.strategies import ColdStart, QueryContext, Strategy, get_strategy
from benchmarks import _textdata

C = 10.0
CHECKPOINTS = (10, 20, 50, 100)
BATCH = 10

#: Good descriptions: one sentence each saying what the class is about.
GOOD = {
    "spam subjects": {
        1: "an advertisement or scam: a sales pitch, a free offer, money, adult content or a "
        "product to buy",
        0: "a post on a technical mailing list: software, Linux, Perl, spam filters or tech news",
    },
    "food reviews": {
        1: "a glowing review: the reviewer loves this food and would buy it again",
        0: "a disappointed or lukewarm review: the food is bad or just okay",
    },
    "fortune topics": {
        i: f"a joke or quote about {what}"
        for i, what in enumerate(
            [
                "computers, programming and software",
                "politics, government and elections",
                "science, physics and scientists",
                "food, eating and cooking",
                "sports, games and athletes",
                "love, romance and relationships",
                "law, lawyers and courts",
                "medicine, doctors and health",
                "education, school and teachers",
                "drugs, alcohol and getting high",
            ]
        )
    },
    # one pass over ten titles per subject; subjects in sorted order (the labels' order)
    "UCLA course titles": dict(
        enumerate(
            [
                "a university course in anthropology: culture, archaeology, kinship and "
                "human evolution",
                "a university course in chemistry and biochemistry: organic, inorganic and "
                "physical chemistry, molecules and lab work",
                "a university course in economics: markets, macroeconomics, money and "
                "economic history",
                "a university course in electrical and computer engineering: circuits, "
                "electronics, signals and computer systems",
                "a university course in English: literature, fiction, poetry, Shakespeare "
                "and literary theory",
                "a university course in ethnomusicology: world music, jazz and the music "
                "traditions of other cultures",
                "a university course in film and television: directing, screenwriting, "
                "animation and film history",
                "a university course in history: the history of a region or an era",
                "a law school course: legal practice, courts, contracts, criminal law and "
                "regulation",
                "a business school course in management: marketing, finance, accounting "
                "and business analytics",
                "a university course in mathematics: calculus, algebra, differential "
                "equations, probability and logic",
                "a university course in music: performance on an instrument or voice, "
                "composition and music theory",
                "a university course in physics: quantum mechanics, particles, waves and fields",
                "a university course in psychology: the mind, cognition, memory, behavior "
                "and clinical psychology",
                "a university course in sociology: society, social institutions, inequality "
                "and social research",
                "a university course in theater: acting, stage design, costumes and live "
                "performance",
            ]
        )
    ),
}
#: The first draft for the spam set, written before reading any of its items: plausible,
#: but its "ham" is not what the ham of this set is (posts to technical mailing lists).
FIRST_DRAFT = {
    "spam subjects": {
        1: "spam: an unsolicited e-mail advertising products, money, prizes or offers",
        0: "a normal personal or work e-mail between people who know each other",
    },
}
#: Bare label names, as a user who writes no description would have them.
BARE = {
    "spam subjects": {1: "spam", 0: "ham"},
    "food reviews": {1: "great", 0: "other"},
    "fortune topics": dict(enumerate(_textdata.FORTUNE_TOPICS)),
    "UCLA course titles": dict(enumerate(_textdata.UCLA_NAMES)),
}
#: Vague: true of every item, silent on what tells the classes apart.
VAGUE = {
    "spam subjects": {1: "an e-mail", 0: "a message"},
    "food reviews": {1: "a review of a product", 0: "a comment about food"},
    "fortune topics": {i: f"a short saying, kind {i + 1}" for i in range(10)},
    "UCLA course titles": {i: f"a university course, group {i + 1}" for i in range(16)},
}


def wrong_way(desc: dict[int, str]) -> dict[int, str]:
    """Each class gets the next class's (good) description: the meanings are swapped."""
    keys = list(desc)
    return {k: desc[keys[(i + 1) % len(keys)]] for i, k in enumerate(keys)}


class NoDescriptionRows(TextFeatures):
    """TextFeatures whose descriptions an ActiveLearner does not train on (to measure that)."""

    description_rows = None  # type: ignore[assignment]


class PoolTextFeatures(TextFeatures):
    """TextFeatures the learner fits on the pool (plain ones are not: this measures why)."""

    __alwidgets_label_free__ = True


def model(features: type[TextFeatures] = TextFeatures) -> Any:
    return make_pipeline(features(progress=False), LogisticRegression(C=C, max_iter=2000))


class PoolTfidf(TfidfVectorizer):
    """A TfidfVectorizer the learner fits on the pool (plain ones are not: this measures why)."""

    __alwidgets_label_free__ = True


def tfidf_model(vectorizer: type[TfidfVectorizer] = TfidfVectorizer) -> Any:
    return make_pipeline(vectorizer(sublinear_tf=True), LogisticRegression(C=C, max_iter=2000))


@dataclass(frozen=True)
class Method:
    """One way to pick the first labels, then margin sampling."""

    name: str
    strategy: str = "margin"
    start: str = "none"  # "none": the learner's cold start picks; "random": 10 random first
    descriptions: str | None = None  # key of GOOD/BARE/VAGUE/WRONG
    fit_unlabeled: bool = True
    features: Callable[[], Any] = model
    per_class: int | None = None  # describe_per_class (None: the learner's default)


class ColdStartPhase(Strategy):
    """Today's cold start kept until every class seen has ``per_class`` labels, then margin.

    The no-description analogue of the description phase (a benchmark candidate: without
    descriptions the learner does not know the classes, so "every class" is every class
    labeled so far).
    """

    needs: frozenset[str] = frozenset({"proba", "features", "labels"})
    bounds = (0.0, 1.0)

    def __init__(self, per_class: int = 3) -> None:
        self.per_class = per_class
        self.name = f"cold_start until {per_class} per class"
        self.cold = ColdStart()

    def select(
        self, ctx: QueryContext, n: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        y = ctx.y_labeled
        if y is not None and np.unique(y, return_counts=True)[1].min() < self.per_class:
            return self.cold.select(ctx, n, rng)
        return get_strategy("margin").select(ctx, n, rng)


TODAY = "cold_start + margin (today)"
DESCRIBE = "describe + margin (new: describe until 3 per class)"
OLD = "describe + margin (old: switch after the first batch)"
PLAIN_PHASE = "cold_start until 3 per class + margin"
METHODS = [
    Method("random (no model in the choice)", strategy="random", start="random"),
    Method("random start + margin", start="random"),
    Method(TODAY),
    Method(PLAIN_PHASE, strategy="cold_start_phase"),
    Method(OLD, descriptions="good", per_class=0),
    Method(DESCRIBE, descriptions="good"),
    Method("describe + margin (describe until 2 per class)", descriptions="good", per_class=2),
    Method("describe + margin (describe until 5 per class)", descriptions="good", per_class=5),
    Method(
        "describe + margin (new), descriptions not trained on",
        descriptions="good",
        features=lambda: model(NoDescriptionRows),
    ),
]
WORDING = [
    Method(f"{DESCRIBE}, bare label names", descriptions="bare"),
    Method(f"{DESCRIBE}, vague", descriptions="vague"),
    Method(f"{DESCRIBE}, wrong way round", descriptions="wrong"),
]
POOL_FIT = [
    Method("TF-IDF, random start + margin, fit on labels", start="random", features=tfidf_model),
    Method(
        "TF-IDF, random start + margin, fit on pool",
        start="random",
        features=lambda: tfidf_model(PoolTfidf),
    ),
    Method(
        "TextFeatures, random start + margin, fit on pool",
        start="random",
        features=lambda: model(PoolTextFeatures),
    ),
    Method(
        "TextFeatures, cold_start + margin, fit on pool", features=lambda: model(PoolTextFeatures)
    ),
]


def descriptions_of(name: str, kind: str | None) -> dict[int, str] | None:
    if kind is None:
        return None
    table = {"good": GOOD, "bare": BARE, "vague": VAGUE, "draft": FIRST_DRAFT}
    if kind == "wrong":
        return wrong_way(GOOD[name])
    return table[kind][name]


def run(name: str, method: Method, seed: int, handover: bool = False) -> list[dict[str, Any]]:
    """One run: rows with accuracy and macro-F1 at each checkpoint (and the hand-over)."""
    ts = _textdata.DESCRIBED_SETS[name]()
    texts = ts.texts.to_numpy(dtype=object)
    train, test = train_test_split(
        np.arange(len(ts.y)), test_size=0.25, stratify=ts.y, random_state=seed
    )
    X_pool, y_pool = texts[train], ts.y[train]
    X_test, y_test = texts[test], ts.y[test]
    desc = descriptions_of(name, method.descriptions)
    est = method.features()
    rng = np.random.default_rng(seed)
    start = (
        rng.choice(len(y_pool), BATCH, replace=False)
        if method.start == "random"
        else np.zeros(0, dtype=np.int64)
    )
    zs_pool = zs_test = None
    if handover and desc is not None:
        zs_pool = zero_shot(X_pool, desc, features=est).label
        zs_test = zero_shot(X_test, desc, features=est).label
    classes = np.unique(ts.y)
    rows: list[dict[str, Any]] = []
    handed: list[int] = []  # labels after which the strategy took over from the descriptions

    def record(step: Any) -> None:
        n = len(step.positions)
        phase = getattr(step.learner, "description_phase_", None) if step.fitted else None
        if phase is not None and not phase.describe and not handed:
            handed.append(n)
        if n not in CHECKPOINTS:
            return
        fitted = step.fitted
        pred = step.learner.predict(X_test) if fitted else np.full(len(y_test), step.labels[0])
        row = {
            "dataset": name,
            "method": method.name,
            "seed": seed,
            "n_labels": n,
            "accuracy": accuracy_score(y_test, pred),
            "f1_macro": f1_score(y_test, pred, labels=classes, average="macro", zero_division=0),
            "classes_seen": len(np.unique(step.labels)),
            "handover_at": float(handed[0]) if handed else np.nan,
        }
        if zs_pool is not None and zs_test is not None:
            oof = (
                out_of_fold_predictions(
                    step.learner.estimator_, take_rows(X_pool, step.positions), step.labels
                )
                if step.fitted
                else None
            )
            choice = prefer_model(step.labels, oof, zs_pool[step.positions])
            row["zero_shot_accuracy"] = accuracy_score(y_test, zs_test)
            row["use_model"] = choice.use_model
            row["shown_accuracy"] = (
                row["accuracy"] if choice.use_model else row["zero_shot_accuracy"]
            )
        rows.append(row)

    from threadpoolctl import threadpool_limits

    strategy: Any = ColdStartPhase(3) if method.strategy == "cold_start_phase" else method.strategy
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        run_oracle_loop(
            est,
            X_pool,
            y_pool,
            strategy,
            start=start,
            target=max(CHECKPOINTS),
            batch_size=BATCH,
            random_state=seed,
            on_round=record,
            descriptions=desc,
            fit_unlabeled=method.fit_unlabeled,
            describe_per_class=method.per_class,
        )
    return rows


def runs(names: list[str], seeds: list[int], methods: list[Method]) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for name in names:
        for method in methods:
            for seed in seeds:
                rows += run(name, method, seed, handover=method.name == DESCRIBE)
    return pd.DataFrame(rows)


DRAFT = Method(f"{DESCRIBE}, first draft", descriptions="draft")


def collect(quick: bool, names: list[str] | None = None, pool_fit: bool = True) -> pd.DataFrame:
    """Every run of the section (on ``names``, default all sets): one row per run and checkpoint.

    ``pool_fit=False`` leaves out the runs of the pool-fit table (they do not depend on
    the descriptions).
    """
    seeds = [0, 1] if quick else [0, 1, 2, 3, 4]
    if quick:
        return runs(["fortune topics"], seeds, [METHODS[2], METHODS[4], METHODS[5]])
    names = list(_textdata.DESCRIBED_SETS) if names is None else names
    frame = runs(names, seeds, [*METHODS, *WORDING, *(POOL_FIT if pool_fit else [])])
    drafts = [n for n in names if n in FIRST_DRAFT]
    return pd.concat([frame, runs(drafts, seeds, [DRAFT])], ignore_index=True)
