"""Fixtures of this suite live in rotation_helpers.py (a unique module name, importable by the tests)."""

from rotation_helpers import *  # noqa: F401,F403 - re-export the fixtures to pytest
