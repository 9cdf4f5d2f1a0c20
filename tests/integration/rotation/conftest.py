"""Fixtures of this suite live in rotation_helpers.py (a unique module name the tests import)."""

from rotation_helpers import app_db, file_rotation, moto_endpoint, pg_server, rotation

__all__ = ["app_db", "file_rotation", "moto_endpoint", "pg_server", "rotation"]  # re-exported for pytest
