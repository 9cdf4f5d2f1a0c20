"""Fixtures of this suite live in migrate_helpers.py (a unique module name the tests import)."""

from migrate_helpers import tree

__all__ = ["tree"]  # re-exported for pytest
