"""Widgets: one per concept (layer 6 of DESIGN.md)."""

from alwidgets.widgets._batch import BatchWidget

__all__ = ["BatchWidget"]
