"""Apply and roll back the Sensa Learn migrations (files/sql/migrations) in tests.

Tests talk only to ``apply_schema`` / ``rollback_schema`` / ``migration_files`` so the way
files reach the server can change without touching a test body: today each file runs
through ``psql -X -v ON_ERROR_STOP=1 -1 -f FILE`` (one transaction per file, like
pg_migrate); the lead will switch the internals to the pg_migrate module.
"""

import os
import re
import subprocess

from support.collection import REPO_ROOT

MIGRATIONS_DIR = os.path.join(REPO_ROOT, "files", "sql", "migrations")
_UP = re.compile(r"^(?P<version>\d{8}_\d{4})_(?P<description>[a-z0-9][a-z0-9_]*)\.sql$")
_DOWN = re.compile(r"^(?P<version>\d{8}_\d{4})_rollback\.sql$")


class SchemaError(Exception):
    """A migration or rollback file failed; the message carries psql's output."""


def migration_files(path=MIGRATIONS_DIR):
    """[(version, up_path, down_path_or_None)] in version order."""
    ups, downs = {}, {}
    for name in sorted(os.listdir(path)):
        down = _DOWN.match(name)
        if down:
            downs[down.group("version")] = os.path.join(path, name)
            continue
        up = _UP.match(name)
        if up:
            ups[up.group("version")] = os.path.join(path, name)
    return [(v, ups[v], downs.get(v)) for v in sorted(ups)]


def versions():
    return [v for v, _, _ in migration_files()]


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
        capture_output=True, text=True, env=env,
    )
    if proc.returncode != 0:
        raise SchemaError("%s failed (exit %d):\n%s" % (os.path.basename(path), proc.returncode, proc.stderr))
    return proc.stderr


def apply_schema(db, upto=None, role=None):
    """Apply every migration in version order up to and including ``upto`` (a version or a
    prefix like '0003'); each file in one transaction. Returns the versions applied."""
    done = []
    for version, up, _ in migration_files():
        run_file(db, up, role=role)
        done.append(version)
        if upto and (version == upto or version.endswith("_" + upto)):
            break
    return done


def rollback_schema(db, down_to=None, role=None, applied_upto=None):
    """Roll back, newest first, every migration newer than ``down_to`` (None: all of them).
    ``applied_upto`` limits the start to that version (default: the newest file)."""
    done = []
    files = migration_files()
    if applied_upto:
        files = [f for f in files if f[0] <= _full(applied_upto)]
    for version, _, down in reversed(files):
        if down_to and version <= _full(down_to):
            break
        if down is None:
            raise SchemaError("migration %s has no rollback file" % version)
        run_file(db, down, role=role)
        done.append(version)
    return done


def _full(version):
    for v in versions():
        if v == version or v.endswith("_" + version):
            return v
    raise SchemaError("no migration with version %s" % version)
