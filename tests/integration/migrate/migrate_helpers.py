"""Helpers for pg_migrate integration tests: write migration trees, run the engine directly."""

import os
import subprocess
import sys
import textwrap

import psycopg2
import pytest

from ansible_collections.sensa.infra.plugins.module_utils.migration_files import discover
from ansible_collections.sensa.infra.plugins.module_utils.migration_runner import Runner, RunOptions


class MigrationTree:
    """A files/sql tree: ``migrations/``, ``rollbacks/`` and ``fixes/`` side by side.

    ``write`` routes by name: ``*_rollback.sql`` to rollbacks/, ``fixes/...`` to fixes/,
    anything else into migrations/ (``self.path``)."""

    def __init__(self, root):
        self.root = str(root)
        self.path = os.path.join(self.root, "migrations")
        os.makedirs(self.path, exist_ok=True)

    def add(self, version, name, up, down="SELECT 1;\n"):
        self.write("%s_%s.sql" % (version, name), up)
        if down is not None:
            self.write("%s_rollback.sql" % version, down)
        return self

    def location(self, name):
        if name.endswith("_rollback.sql") and "/" not in name:
            return os.path.join(self.root, "rollbacks", name)
        if name.startswith("fixes/"):
            return os.path.join(self.root, name)
        return os.path.join(self.path, name)

    def write(self, name, text):
        full = self.location(name)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as handle:
            handle.write(text if isinstance(text, bytes) else text.encode())
        return full

    def remove(self, name):
        os.unlink(self.location(name))


@pytest.fixture
def tree(tmp_path):
    return MigrationTree(tmp_path / "sql")


def runner_for(db, tree, application_name="sensa.pg_migrate.test", **options):
    def connect(autocommit):
        conn = psycopg2.connect(application_name=application_name, **db.conninfo())
        conn.autocommit = autocommit
        return conn

    options.setdefault("retry_backoff", 0.05)
    return Runner(connect, discover(tree.path), RunOptions(**options))


def migrate(db, tree, action="applied", target=None, **options):
    return runner_for(db, tree, **options).run(action, target)


def log_rows(db):
    return db.query(
        "SELECT version, kind, status, statements_done, error_sqlstate, error_message, error_statement "
        "FROM migrations_log ORDER BY id"
    )


def table_exists(db, name):
    return db.scalar("SELECT to_regclass(%s) IS NOT NULL", (name,))


# A runner in a process of its own, for tests that kill it (kill -9) mid-file. Its
# connections carry sensa.test_sleep=on, so a file can sleep only when this victim runs it.
VICTIM_SCRIPT = textwrap.dedent("""
    import sys
    sys.path[:0] = sys.argv[1:3]
    from support.collection import ensure_collection_link
    ensure_collection_link()
    import psycopg2
    from ansible_collections.sensa.infra.plugins.module_utils.migration_files import discover
    from ansible_collections.sensa.infra.plugins.module_utils.migration_runner import RunOptions, Runner
    conninfo = eval(sys.argv[3])
    def connect(autocommit):
        conn = psycopg2.connect(application_name="victim", options="-c sensa.test_sleep=on", **conninfo)
        conn.autocommit = autocommit
        return conn
    Runner(connect, discover(sys.argv[4]), RunOptions()).run()
""")



def spawn_victim(db, tree, repo_root, tmp_path):
    script = tmp_path / "victim.py"
    script.write_text(VICTIM_SCRIPT)
    return subprocess.Popen([sys.executable, str(script), os.path.join(repo_root, "tests"), repo_root,
                             repr(db.conninfo()), tree.path])
