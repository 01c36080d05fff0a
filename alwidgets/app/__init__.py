"""The labeling app: :class:`ActiveLabeler` and the parts it is built from.

See ``docs/ARCHITECTURE.md`` ("The app package") for which module owns which decision.
"""

from __future__ import annotations

from alwidgets.app._labeler import ActiveLabeler

__all__ = ["ActiveLabeler"]
