"""The product catalog and rule set, shipped as package data."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from schemas.catalog import Catalog


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """The catalog and rule set bundled with this release."""
    raw = resources.files("workflows").joinpath("data/catalog.json").read_text("utf-8")
    return Catalog.model_validate_json(raw)
