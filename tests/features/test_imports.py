"""features and review import light: no torch, no widget stack until embeddings are asked for."""

from __future__ import annotations

import subprocess
import sys

import alwidgets


def test_import_pulls_no_heavy_or_widget_modules() -> None:
    code = (
        "import sys, alwidgets; alwidgets.features.TextFeatures; alwidgets.review.suspect_labels; "
        "from alwidgets.features import TextFeatures; TextFeatures(embeddings=None).fit(['free money', 'lunch today']); "
        "heavy = {'torch', 'sentence_transformers', 'ipywidgets', 'plotly', 'anywidget', 'cleanlab'}; "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_names() -> None:
    assert {"features", "review"} <= set(alwidgets.__all__)
    assert alwidgets.features.__all__ == [
        "DescriptionPhase",
        "ModelPreference",
        "PrecomputedEmbeddings",
        "TextFeatures",
        "ZeroShot",
        "check_texts",
        "default_cache_dir",
        "description_phase",
        "out_of_fold_predictions",
        "prefer_model",
        "zero_shot",
    ]
    assert "suspect_labels" in alwidgets.review.__all__
