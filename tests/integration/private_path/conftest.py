"""Fixtures of this suite live in private_path_helpers.py (a unique module name the tests import)."""
