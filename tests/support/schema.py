"""Apply and roll back the Sensa Learn migrations (files/sql/migrations, rollbacks in files/sql/rollbacks) in tests.

``apply_schema`` and ``rollback_schema`` go through pg_migrate's engine (the same code the
``sensa.infra.pg_migrate`` module runs: advisory lock, one transaction per file, log rows),
so every schema test also exercises the migration path users deploy with. ``run_file``
applies one file directly with psql, for the "apply the same file twice" checks that the
engine would (rightly) refuse to do.
"""

import os
import subprocess

from support.collection import REPO_ROOT, ensure_collection_link

ensure_collection_link()

from ansible_collections.sensa.infra.plugins.module_utils.migration_files import MigrationError, discover  # noqa: E402
from ansible_collections.sensa.infra.plugins.module_utils.migration_runner import Runner, RunOptions  # noqa: E402

MIGRATIONS_DIR = os.path.join(REPO_ROOT, "files", "sql", "migrations")
ROLLBACKS_DIR = os.path.join(REPO_ROOT, "files", "sql", "rollbacks")


class SchemaError(Exception):
    """A migration or rollback file failed; the message carries psql's output."""


def migration_files(path=MIGRATIONS_DIR, rollbacks=ROLLBACKS_DIR):
    """[(version, up_path, down_path_or_None)] in version order, read as pg_migrate reads them."""
    return [(m.version, m.up.path, m.down.path if m.down else None)
            for m in discover(path, rollbacks, require_rollback=False)]


def versions():
    return [v for v, _up, _down in migration_files()]


def run_file(db, path, role=None):
    """Run one SQL file in a single transaction as the superuser (or SET ROLE ``role``)."""
    cluster = db.cluster
    env = dict(os.environ)
    env.pop("PGOPTIONS", None)
    if role:
        # The session starts as the superuser and switches to ``role`` (like pg_migrate's
        # session_role), so the objects the file creates are owned by that role.
        env["PGOPTIONS"] = "-c role=%s" % role
    proc = subprocess.run(
        [os.path.join(cluster.bindir, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-1",
         "-h", cluster.socket_dir, "-p", str(cluster.port), "-U", cluster.superuser, "-d", db.name,
         "-f", path],
        capture_output=True, text=True, env=env, check=False,
    )
    if proc.returncode != 0:
        raise SchemaError("%s failed (exit %d):\n%s" % (os.path.basename(path), proc.returncode, proc.stderr))
    return proc.stderr


def _runner(db, role):
    import psycopg2

    def connect(autocommit):
        conn = psycopg2.connect(application_name="sensa.pg_migrate", **db.conninfo())
        conn.autocommit = autocommit
        return conn

    return Runner(connect, discover(MIGRATIONS_DIR), RunOptions(session_role=role, controller_user="pytest"))


def apply_schema(db, upto=None, role=None):
    """Apply pending migrations through pg_migrate up to and including ``upto`` (a version or
    a suffix like '0003'; None: all). Returns the versions applied."""
    try:
        result = _runner(db, role).run("applied", _full(upto) if upto else None)
    except MigrationError as exc:
        raise SchemaError(str(exc))
    return [a["version"] for a in result["applied"]]


def rollback_schema(db, down_to=None, role=None):
    """Roll back through pg_migrate, newest first, every applied migration newer than
    ``down_to`` (None: all of them). Returns the versions rolled back."""
    try:
        result = _runner(db, role).run("rolled_back", _full(down_to) if down_to else "0")
    except MigrationError as exc:
        raise SchemaError(str(exc))
    return [r["version"] for r in result["rolled_back"]]


def _full(version):
    for v in versions():
        if v == version or v.endswith("_" + version):
            return v
    raise SchemaError("no migration with version %s" % version)
