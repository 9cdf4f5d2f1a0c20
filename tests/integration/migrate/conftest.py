"""Fixtures of this suite live in migrate_helpers.py (a unique module name, importable by the tests)."""

from migrate_helpers import *  # noqa: F401,F403 - re-export the fixtures to pytest
