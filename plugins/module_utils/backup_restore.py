# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Backups of a Sensa database, restored into a throwaway cluster and verified.

One home for the restore drill (``pg_backup``, ``pg_restore_target``, ``pg_restore_verify``
and the tests); no Ansible imports, so tests call it directly.

A *backup set* is a directory with ``backup.json`` (what was backed up, when, and what the
database looked like at the backup's point in time) plus the data:

* ``logical``: ``db.dump`` (``pg_dump -Fc``) and ``roles.sql`` (``pg_dumpall --roles-only
  --no-role-passwords``: a logical dump does not carry the cluster-wide roles that own the
  objects and that row-level security names). The dump runs on a snapshot exported from the
  transaction that counted and checksummed the tables, so the expectations in
  ``backup.json`` describe exactly the data in the dump.
* ``physical``: ``base/`` (``pg_basebackup``, with its ``backup_manifest``) plus the WAL
  archive the source writes with ``archive_command``; a restore replays the archive up to a
  *mark* (a named restore point whose table counts were taken while writers were held off)
  or to an operator-chosen ``recovery_target_time``.

Nothing here writes to the source database: a backup reads it, takes pg_migrate's advisory
lock in *shared* mode (so a migration cannot start while the snapshot is taken, and a backup
never starts while a migration holds the lock), and a mark adds a WAL record.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import datetime
import hashlib
import json
import os
import shutil
import subprocess
import time

from ansible_collections.sensa.infra.plugins.module_utils.migration_runner import lock_key
from ansible_collections.sensa.infra.plugins.module_utils.postgres_connection import libpq_environment, psycopg2

FORMAT_VERSION = 1
METADATA_FILE = "backup.json"
DUMP_FILE = "db.dump"
ROLES_FILE = "roles.sql"
BASE_DIR = "base"
METHODS = ("logical", "physical")

# Tables of the application schema whose rows the drill counts; extension members and
# views are left out (their data is not ours or is derived).
TABLES_SQL = """
SELECT c.relname
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = %(schema)s AND c.relkind IN ('r', 'p')
   AND NOT c.relispartition
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
                    WHERE e.classid = 'pg_catalog.pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
 ORDER BY c.relname
"""

# A checksum of a table's data that does not depend on physical row order: the md5 of the
# sorted md5s of each row's text form (vectors and timestamps included).
CHECKSUM_SQL = "SELECT count(*), md5(coalesce(string_agg(h, '' ORDER BY h), '')) FROM (SELECT md5(t::text) AS h FROM %s t) s"


class BackupError(Exception):
    """A backup, restore or check could not be done; the message says what, where and the fix."""


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc)


def isoformat(value):
    return value.astimezone(datetime.timezone.utc).isoformat().replace("+00:00", "Z")


def parse_time(text):
    value = datetime.datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def quote_ident(name):
    return '"%s"' % name.replace('"', '""')


def libpq_env(conninfo):
    """Environment for pg_dump/pg_basebackup/psql: connection options never go on a command line.
    The tools talk to the server ``conninfo`` names (or a scratch cluster named by flags), so an
    inherited target or password never leaks in; every libpq keyword, client certificate and key
    included, maps as postgres_connection.libpq_environment maps it."""
    base = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8")
    for key in ("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGOPTIONS", "PGSSLMODE", "PGSSLROOTCERT"):
        base.pop(key, None)
    return libpq_environment(conninfo, base)


def run_tool(bindir, argv, conninfo=None, what=None, **kwargs):
    """Run a PostgreSQL client program; raise BackupError with its stderr when it fails."""
    env = libpq_env(conninfo or {})
    proc = subprocess.run([os.path.join(bindir, argv[0])] + list(argv[1:]), capture_output=True, text=True, env=env,
                          check=False, **kwargs)
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise BackupError("%s failed (exit %d): %s" % (what or argv[0], proc.returncode, " | ".join(detail[-8:])))
    return proc


# ---------------------------------------------------------------------------------------
# Reading the database

def migration_lock_holder(cur, key):
    """Who holds pg_migrate's advisory lock (exclusively), or None."""
    cur.execute(
        """
        SELECT a.pid, a.backend_start, coalesce(a.application_name, ''), coalesce(a.usename, ''), a.query_start
          FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.granted AND l.mode = 'ExclusiveLock'
           AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
           AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid AND l.objsubid = 1
        """,
        ((key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF),
    )
    row = cur.fetchone()
    if not row:
        return None
    return dict(pid=row[0], since=row[1].isoformat() if row[1] else None, application_name=row[2], user=row[3])


def hold_migration_lock(conn, dbname, lock_wait, schema="public", table="migrations_log"):
    """Take pg_migrate's advisory lock in shared mode on ``conn`` (autocommit), waiting up to
    ``lock_wait`` seconds while a migration holds it. Returns the seconds waited."""
    key = lock_key(dbname, schema, table)
    start = time.monotonic()
    delay = 0.1
    with conn.cursor() as cur:
        while True:
            cur.execute("SELECT pg_catalog.pg_try_advisory_lock_shared(%s)", (key,))
            if cur.fetchone()[0]:
                return round(time.monotonic() - start, 2)
            if time.monotonic() - start >= lock_wait:
                holder = migration_lock_holder(cur, key)
                who = ("pid %(pid)s (user %(user)s, application_name %(application_name)r, connected since %(since)s)"
                       % holder) if holder else "another session"
                raise BackupError(
                    "database %s is mid-migration: pg_migrate's advisory lock is held by %s; waited %.0f s (lock_wait). "
                    "Refusing to back up or mark a half-migrated database. Re-run the drill when the migration has "
                    "finished, or raise lock_wait to wait longer" % (dbname, who, lock_wait))
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def release_migration_lock(conn, dbname, schema="public", table="migrations_log"):
    with conn.cursor() as cur:
        cur.execute("SELECT pg_catalog.pg_advisory_unlock_shared(%s)", (lock_key(dbname, schema, table),))


@contextlib.contextmanager
def migration_lock_shared(conninfo, lock_wait, schema="public", table="migrations_log"):
    """Hold pg_migrate's lock in shared mode on a connection of its own for the body; yields
    (that connection, seconds waited). Released, and the connection closed, also on errors."""
    dbname = conninfo["dbname"]
    conn = _connect(conninfo)
    try:
        waited = hold_migration_lock(conn, dbname, lock_wait, schema, table)
        try:
            yield conn, waited
        finally:
            release_migration_lock(conn, dbname, schema, table)
    finally:
        conn.close()


@contextlib.contextmanager
def new_backup_dir(dest):
    """Create ``dest`` for a new backup set; remove it again when the backup fails."""
    if os.path.exists(os.path.join(dest, METADATA_FILE)):
        raise BackupError("%s already holds a backup set; choose a new directory" % dest)
    created = not os.path.exists(dest)
    os.makedirs(dest, mode=0o700, exist_ok=True)
    try:
        yield dest
    except BaseException:
        if created:
            shutil.rmtree(dest, ignore_errors=True)
        raise


def database_facts(cur, schema="public", log_table="migrations_log", checksums=True, tables=None):
    """What a restore must reproduce: schema version, migration state, extensions, per-table
    row counts (and data checksums). Reads only."""
    facts = {}
    cur.execute("SELECT current_database(), current_setting('server_version'), current_setting('server_version_num')::int, "
                "clock_timestamp()")
    facts["database"], facts["server_version"], facts["server_version_num"], at = cur.fetchone()
    facts["read_at"] = isoformat(at)
    cur.execute("SELECT extname, extversion FROM pg_catalog.pg_extension WHERE extname <> 'plpgsql' ORDER BY 1")
    facts["extensions"] = dict(cur.fetchall())
    facts.update(migration_state(cur, schema, log_table))
    if tables is None:
        cur.execute(TABLES_SQL, {"schema": schema})
        tables = [r[0] for r in cur.fetchall()]
    counts, sums = {}, {}
    for name in tables:
        if checksums:
            cur.execute(CHECKSUM_SQL % ("%s.%s" % (quote_ident(schema), quote_ident(name))))
            counts[name], sums[name] = cur.fetchone()
        else:
            cur.execute("SELECT count(*) FROM %s.%s" % (quote_ident(schema), quote_ident(name)))
            counts[name] = cur.fetchone()[0]
    facts["row_counts"] = counts
    if checksums:
        facts["checksums"] = sums
    return facts


def migration_state(cur, schema="public", log_table="migrations_log"):
    """Applied versions (newest successful attempt decides, as pg_migrate), the schema version
    and any attempt still 'running' (a no-transaction migration in progress or interrupted)."""
    cur.execute("SELECT to_regclass(%s)", ("%s.%s" % (schema, log_table),))
    if cur.fetchone()[0] is None:
        return dict(schema_version=None, applied_versions=[], running_migrations=[])
    table = "%s.%s" % (quote_ident(schema), quote_ident(log_table))
    cur.execute("SELECT version, kind FROM (SELECT DISTINCT ON (version) version, kind FROM %s WHERE status = 'success' "
                "ORDER BY version, id DESC) s ORDER BY version" % table)
    applied = [v for v, kind in cur.fetchall() if kind != "rollback"]
    cur.execute("SELECT r.version, r.filename, r.started_at::text FROM %s r WHERE r.status = 'running' "
                "AND NOT EXISTS (SELECT 1 FROM %s s WHERE s.version = r.version AND s.id > r.id) ORDER BY r.id" % (table, table))
    running = [dict(version=v, filename=f, started_at=s) for v, f, s in cur.fetchall()]
    return dict(schema_version=applied[-1] if applied else None, applied_versions=applied, running_migrations=running)


def refuse_half_migrated(facts, dbname):
    if facts["running_migrations"]:
        first = facts["running_migrations"][0]
        raise BackupError(
            "database %s is half-migrated: migrations_log has an unfinished 'running' attempt of %s (%s, started %s). "
            "Refusing to back it up; finish or repair that migration first (docs/MIGRATION_GUIDELINES.md)"
            % (dbname, first["version"], first["filename"], first["started_at"]))


def _read_metadata(backup_dir):
    path = os.path.join(backup_dir, METADATA_FILE)
    if not os.path.isfile(path):
        raise BackupError("%s is not a backup set: it has no %s (take one with sensa.infra.pg_backup)" % (backup_dir, METADATA_FILE))
    try:
        with open(path) as handle:
            meta = json.load(handle)
    except ValueError as exc:
        raise BackupError("%s is corrupted: %s" % (path, exc))
    if meta.get("format") != FORMAT_VERSION or meta.get("method") not in METHODS:
        raise BackupError("%s: unsupported backup set (format %r, method %r)" % (path, meta.get("format"), meta.get("method")))
    return meta


def read_metadata(backup_dir):
    return _read_metadata(backup_dir)


def write_metadata(backup_dir, meta):
    path = os.path.join(backup_dir, METADATA_FILE)
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(meta, handle, indent=2, sort_keys=True)
    os.replace(tmp, path)


def pick_latest(root):
    """The newest complete backup set under ``root`` (by its taken_at), or raise."""
    found = []
    for name in sorted(os.listdir(root)) if os.path.isdir(root) else []:
        candidate = os.path.join(root, name)
        try:
            meta = _read_metadata(candidate)
        except BackupError:
            continue
        if meta.get("taken_at"):  # a set whose backup did not finish has none
            found.append((parse_time(meta["taken_at"]), candidate))
    if not found:
        raise BackupError("no backup set under %s; take one first (restore_drill_backup: '' takes one)" % root)
    return max(found)[1]


# ---------------------------------------------------------------------------------------
# Taking backups

def _connect(conninfo, autocommit=True):
    conn = psycopg2.connect(**conninfo)
    conn.autocommit = autocommit
    return conn


def take_logical(conninfo, bindir, dest, lock_wait=60.0, checksums=True, schema="public", log_table="migrations_log"):
    """pg_dump -Fc of one database on a snapshot whose counts and checksums go into backup.json."""
    dbname = conninfo["dbname"]
    started = time.monotonic()
    with new_backup_dir(dest), migration_lock_shared(conninfo, lock_wait, schema, log_table) as (_lock, waited):
        snap_conn = _connect(conninfo, autocommit=False)
        try:
            snap_conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
            with snap_conn.cursor() as cur:
                cur.execute("SELECT pg_catalog.pg_export_snapshot()")
                snapshot = cur.fetchone()[0]
                facts = database_facts(cur, schema, log_table, checksums=checksums)
            refuse_half_migrated(facts, dbname)
            dump = os.path.join(dest, DUMP_FILE)
            run_tool(bindir, ["pg_dump", "-Fc", "--snapshot=" + snapshot, "-f", dump], conninfo,
                     what="pg_dump of %s" % dbname)
            roles = os.path.join(dest, ROLES_FILE)
            run_tool(bindir, ["pg_dumpall", "--roles-only", "--no-role-passwords", "-f", roles],
                     dict(conninfo, dbname="postgres"), what="pg_dumpall --roles-only")
            snap_conn.rollback()
        finally:
            snap_conn.close()
    meta = dict(format=FORMAT_VERSION, method="logical", database=dbname, taken_at=facts["read_at"], source=facts,
                lock_waited_seconds=waited, seconds=round(time.monotonic() - started, 2),
                files={DUMP_FILE: dict(sha256=sha256_file(dump), bytes=os.path.getsize(dump)),
                       ROLES_FILE: dict(sha256=sha256_file(roles), bytes=os.path.getsize(roles))})
    write_metadata(dest, meta)
    return meta


def take_physical(conninfo, bindir, dest, archive_dir, lock_wait=60.0, checksums=True, schema="public",
                  log_table="migrations_log", mark_name=None):
    """pg_basebackup of the whole cluster, then a mark (the backup's own consistent point)."""
    dbname = conninfo["dbname"]
    if os.path.exists(os.path.join(dest, METADATA_FILE)):
        raise BackupError("%s already holds a backup set; choose a new directory" % dest)
    conn = _connect(conninfo)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT current_setting('archive_mode'), current_setting('archive_command')")
            mode, command = cur.fetchone()
    finally:
        conn.close()
    if mode not in ("on", "always") or not command.strip():
        raise BackupError("the source server does not archive its WAL (archive_mode=%s, archive_command=%r): a physical "
                          "backup could only restore to its end point. Set archive_mode=on and an archive_command that "
                          "copies to %s" % (mode, command, archive_dir))
    with new_backup_dir(dest):
        started = time.monotonic()
        base = os.path.join(dest, BASE_DIR)
        run_tool(bindir, ["pg_basebackup", "-D", base, "-Fp", "-X", "stream", "-c", "fast", "--label", "sensa-restore-drill"],
                 conninfo, what="pg_basebackup")
        meta = dict(format=FORMAT_VERSION, method="physical", database=dbname, archive_dir=os.path.abspath(archive_dir),
                    base_seconds=round(time.monotonic() - started, 2), marks=[],
                    files={"base/backup_manifest": dict(sha256=sha256_file(os.path.join(base, "backup_manifest")))})
        write_metadata(dest, meta)
        mark = add_mark(conninfo, dest, name=mark_name or "sensa_drill_%s" % now_utc().strftime("%Y%m%dT%H%M%S"),
                        lock_wait=lock_wait, checksums=checksums, schema=schema, log_table=log_table)
        meta = read_metadata(dest)
        meta["taken_at"] = mark["time"]
        meta["source"] = mark["facts"]
        meta["seconds"] = round(time.monotonic() - started, 2)
        write_metadata(dest, meta)
    return meta


def add_mark(conninfo, backup_dir, name, lock_wait=60.0, checksums=True, schema="public", log_table="migrations_log"):
    """A named restore point whose table counts are exact: the tables are locked in SHARE mode
    (writers wait, readers do not) while they are counted and the restore point is written;
    the WAL segment is then switched so the archive holds the point."""
    meta = read_metadata(backup_dir)
    if meta["method"] != "physical":
        raise BackupError("%s is a %s backup; marks belong to physical backups" % (backup_dir, meta["method"]))
    if any(m["name"] == name for m in meta["marks"]):
        raise BackupError("%s already has a mark named %s" % (backup_dir, name))
    dbname = conninfo["dbname"]
    with migration_lock_shared(conninfo, lock_wait, schema, log_table) as (lock_conn, _waited):
        conn = _connect(conninfo, autocommit=False)
        try:
            with conn.cursor() as cur:
                cur.execute(TABLES_SQL, {"schema": schema})
                tables = [r[0] for r in cur.fetchall()]
                if tables:
                    cur.execute("LOCK TABLE %s IN SHARE MODE" % ", ".join(
                        "%s.%s" % (quote_ident(schema), quote_ident(t)) for t in tables))
                facts = database_facts(cur, schema, log_table, checksums=checksums, tables=tables)
                refuse_half_migrated(facts, dbname)
                cur.execute("SELECT pg_catalog.pg_create_restore_point(%s)::text, clock_timestamp()", (name,))
                lsn, at = cur.fetchone()
            conn.commit()
        finally:
            conn.close()
        with lock_conn.cursor() as cur:
            cur.execute("SELECT pg_catalog.pg_switch_wal()")
    mark = dict(name=name, lsn=lsn, time=isoformat(at), facts=facts)
    meta["marks"].append(mark)
    write_metadata(backup_dir, meta)
    return mark


# ---------------------------------------------------------------------------------------
# Checking a backup before restoring it

def server_version_num(bindir):
    """The server version (e.g. 150014) of the binaries in ``bindir``."""
    out = run_tool(bindir, ["pg_config", "--version"], what="pg_config --version").stdout.split()[1]
    parts = [int("".join(ch for ch in p if ch.isdigit()) or 0) for p in out.split(".")[:2]]
    return parts[0] * 10000 + (parts[1] if len(parts) > 1 else 0)


def check_engine(meta, bindir):
    """A physical backup needs the same major version; a logical one at least the source's."""
    source = meta["source"]["server_version_num"] // 10000
    target = server_version_num(bindir) // 10000
    if meta["method"] == "physical" and source != target:
        raise BackupError("a physical backup of PostgreSQL %d restores only into PostgreSQL %d; the temporary cluster's "
                          "engine is %d (choose the engine the source runs)" % (source, source, target))
    if target < source:
        raise BackupError("the dump of PostgreSQL %d cannot be restored into the older PostgreSQL %d; choose an engine of "
                          "version %d or newer" % (source, target, source))


def check_files(backup_dir, meta, bindir):
    """Every file the set records is present and unchanged; the archive can be read."""
    for relpath, info in sorted(meta.get("files", {}).items()):
        path = os.path.join(backup_dir, relpath)
        if not os.path.isfile(path):
            raise BackupError("backup file %s is missing from %s: the backup set is incomplete; pick another backup" % (relpath, backup_dir))
        size = os.path.getsize(path)
        if "bytes" in info and size != info["bytes"]:
            raise BackupError("backup file %s is truncated or corrupted: %d bytes, the backup recorded %d; pick another "
                              "backup (nothing was restored)" % (path, size, info["bytes"]))
        actual = sha256_file(path)
        if actual != info["sha256"]:
            raise BackupError("backup file %s is corrupted: sha256 %s, the backup recorded %s; pick another backup "
                              "(nothing was restored)" % (path, actual, info["sha256"]))
    if meta["method"] == "logical":
        run_tool(bindir, ["pg_restore", "--list", os.path.join(backup_dir, DUMP_FILE)],
                 what="pg_restore --list (reading the dump's table of contents)")
    else:
        run_tool(bindir, ["pg_verifybackup", "--no-parse-wal", os.path.join(backup_dir, BASE_DIR)],
                 what="pg_verifybackup of the base backup")
        if not os.path.isdir(meta["archive_dir"]):
            raise BackupError("the WAL archive %s of this backup is missing; a physical restore needs it" % meta["archive_dir"])


def recovery_expectations(meta, target_time=None, target_name=None):
    """(facts the restore must reproduce or None, a line saying where they come from)."""
    if meta["method"] == "logical":
        return meta["source"], "the dump's snapshot at %s" % meta["taken_at"]
    marks = meta["marks"]
    if target_name:
        for mark in marks:
            if mark["name"] == target_name:
                return mark["facts"], "mark %s at %s" % (mark["name"], mark["time"])
        raise BackupError("backup %s has no mark %r (marks: %s)" % (meta.get("database"), target_name,
                                                                    ", ".join(m["name"] for m in marks) or "none"))
    when = parse_time(target_time)
    earlier = [m for m in marks if parse_time(m["time"]) <= when]
    if not earlier:
        raise BackupError("recovery_target_time %s is before the base backup's first consistent point %s; choose a later "
                          "time or an older backup" % (target_time, marks[0]["time"] if marks else "(none)"))
    mark = earlier[-1]
    return mark["facts"], "mark %s at %s (the latest at or before %s)" % (mark["name"], mark["time"], target_time)


# ---------------------------------------------------------------------------------------
# Restoring into a throwaway cluster (plugins/module_utils/pg_cluster.py)

def _psql_file(cluster, path, dbname="postgres"):
    """Run a SQL file on the scratch cluster without stopping at errors; returns the ERROR lines."""
    proc = subprocess.run(
        [os.path.join(cluster.bindir, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=0", "-h", cluster.socket_dir,
         "-p", str(cluster.port), "-U", cluster.superuser, "-d", dbname, "-f", path],
        capture_output=True, text=True, env=libpq_env({}), check=False)
    return [line for line in proc.stderr.splitlines() if "ERROR:" in line]


def restore_logical(backup_dir, cluster):
    """initdb + start a scratch cluster, create the roles, pg_restore --create the database."""
    cluster.init()
    cluster.start()
    errors = [e for e in _psql_file(cluster, os.path.join(backup_dir, ROLES_FILE)) if "already exists" not in e]
    if errors:
        raise BackupError("creating the backup's roles on the temporary cluster failed: %s" % " | ".join(errors[:5]))
    conninfo = cluster.conninfo("postgres")
    run_tool(cluster.bindir, ["pg_restore", "--create", "--exit-on-error", "-d", "postgres",
                              os.path.join(backup_dir, DUMP_FILE)], conninfo,
             what="pg_restore of %s into the temporary cluster" % os.path.join(backup_dir, DUMP_FILE))


def replace_database(conninfo, bindir, backup_dir, lock_wait=60.0):
    """Replace the database named in the backup on the server of ``conninfo`` with the
    backup's content (a developer's ``make restore``): roles first, then DROP DATABASE ...
    WITH (FORCE) and ``pg_restore --create``. Refuses while a migration holds the lock."""
    meta = read_metadata(backup_dir)
    if meta["method"] != "logical":
        raise BackupError("%s is a %s backup; only a logical backup replaces a database in place (restore a physical "
                          "one with the restore drill)" % (backup_dir, meta["method"]))
    check_files(backup_dir, meta, bindir)
    dbname = meta["database"]
    admin = dict(conninfo, dbname="postgres")
    conn = _connect(admin)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_catalog.pg_database WHERE datname = %s", (dbname,))
            exists = cur.fetchone() is not None
    finally:
        conn.close()
    if exists:
        with migration_lock_shared(dict(conninfo, dbname=dbname), lock_wait):
            pass  # a running migration makes this refuse; none can start during the short drop below
    proc = subprocess.run([os.path.join(bindir, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=0", "-f",
                           os.path.join(backup_dir, ROLES_FILE)], capture_output=True, text=True, env=libpq_env(admin),
                          check=False)
    errors = [line for line in proc.stderr.splitlines() if "ERROR:" in line and "already exists" not in line]
    if errors:
        raise BackupError("creating the backup's roles failed: %s" % " | ".join(errors[:5]))
    conn = _connect(admin)
    try:
        with conn.cursor() as cur:
            cur.execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % quote_ident(dbname))
    finally:
        conn.close()
    run_tool(bindir, ["pg_restore", "--create", "--exit-on-error", "-d", "postgres", os.path.join(backup_dir, DUMP_FILE)],
             admin, what="pg_restore of %s" % os.path.join(backup_dir, DUMP_FILE))
    return meta


def _conf_quote(value):
    return "'%s'" % str(value).replace("'", "''")


def restore_physical(backup_dir, meta, cluster, target_time=None, target_name=None, timeout=600.0):
    """Copy the base backup into the scratch cluster's data directory and replay the WAL
    archive up to the target, then promote."""
    from ansible_collections.sensa.infra.plugins.module_utils import pg_cluster

    uid, gid = pg_cluster._service_account()  # pylint: disable=protected-access
    os.makedirs(cluster.socket_dir, exist_ok=True)
    os.chmod(cluster.base, 0o755)  # noqa: S103 - the service user traverses it; data/ and socket/ stay 0700
    pg_cluster._make_traversable(cluster.base)  # pylint: disable=protected-access
    shutil.copytree(os.path.join(backup_dir, BASE_DIR), cluster.datadir)
    for name in ("backup_manifest", "standby.signal", "postmaster.pid"):
        path = os.path.join(cluster.datadir, name)
        if os.path.exists(path):
            os.unlink(path)
    archive = meta["archive_dir"]
    settings = ["restore_command = %s" % _conf_quote("cp '%s/%%f' '%%p'" % archive.replace("'", "")),
                "recovery_target_action = 'promote'"]
    if target_name:
        settings.append("recovery_target_name = %s" % _conf_quote(target_name))
    else:
        # A numeric offset: the server refuses time zone abbreviations (such as Z) here.
        settings.append("recovery_target_time = %s" % _conf_quote(
            parse_time(target_time).astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f+00")))
    with open(os.path.join(cluster.datadir, "postgresql.auto.conf"), "a") as handle:
        handle.write("\n# sensa restore drill\n" + "\n".join(settings) + "\n")
    open(os.path.join(cluster.datadir, "recovery.signal"), "w").close()
    if os.geteuid() == 0:
        for path in (cluster.base, cluster.socket_dir):
            os.chown(path, uid, gid)
        for root, dirs, files in os.walk(cluster.datadir):
            os.chown(root, uid, gid)
            for name in dirs + files:
                os.chown(os.path.join(root, name), uid, gid)
    os.chmod(cluster.datadir, 0o700)
    os.chmod(cluster.socket_dir, 0o700)
    try:
        cluster.start(settings={"archive_mode": "off"})
    except pg_cluster.ClusterError as exc:
        raise BackupError(_explain_recovery_failure(str(exc), target_time, target_name))
    deadline = time.monotonic() + timeout
    while True:
        if not cluster.running():
            raise BackupError(_explain_recovery_failure(cluster.log_tail(), target_time, target_name))
        out = cluster.psql("SELECT pg_is_in_recovery()", check=False).strip()
        if out == "f":
            return
        if time.monotonic() > deadline:
            raise BackupError("the temporary cluster was still recovering after %.0f s; log:\n%s" % (timeout, cluster.log_tail()))
        time.sleep(0.2)


def _explain_recovery_failure(text, target_time, target_name):
    target = "restore point %s" % target_name if target_name else "recovery_target_time %s" % target_time
    if "before configured recovery target was reached" in text or "recovery ended before" in text:
        return ("point-in-time recovery stopped before reaching %s: the WAL archive holds nothing past it yet (the source "
                "has not archived a later commit; wait for archive_timeout or run SELECT pg_switch_wal() on the source), "
                "or the target is later than the archive. Server log:\n%s" % (target, text))
    return "the temporary cluster did not recover to %s: %s" % (target, text)


# ---------------------------------------------------------------------------------------
# Verifying the restored database

def _check(name, passed, detail, **extra):
    item = dict(name=name, passed=bool(passed), detail=detail)
    item.update(extra)
    return item


def bracket(before, after):
    """Expectations of a restore whose point in time lies between two reads of a live source
    (an RDS snapshot taken, or a restore time chosen, between them): the row counts of each
    table bound the restored count; checksums only where the table did not change in between.
    ``after`` None is an exact expectation."""
    if after is None:
        return dict(before), None
    if after.get("applied_versions") != before.get("applied_versions"):
        raise BackupError("the source's schema changed between the drill's two reads (%s, then %s): a migration ran "
                          "during the backup; re-run the drill when no migration is running"
                          % (before.get("schema_version"), after.get("schema_version")))
    bounds = {}
    for table in sorted(set(before["row_counts"]) | set(after["row_counts"])):
        low, high = before["row_counts"].get(table), after["row_counts"].get(table)
        values = [v for v in (low, high) if v is not None]
        bounds[table] = (min(values), max(values))
    merged = dict(before)
    if before.get("checksums") is not None and after.get("checksums") is not None:
        merged["checksums"] = dict((t, s) for t, s in before["checksums"].items()
                                   if after["checksums"].get(t) == s and bounds[t][0] == bounds[t][1])
    return merged, bounds


def verify(connect, expected, protected_tables, app_login=None, required_extensions=None, expected_row_counts=None,
           schema="public", log_table="migrations_log", expectations_from="", expected_after=None):
    """Run every check on the restored database. ``connect(user=None)`` returns a new
    autocommit psycopg2 connection (as the restore superuser, or as ``user``). With
    ``expected_after`` (a second read of a live source, see bracket()) row counts must lie
    between the two reads."""
    from ansible_collections.sensa.infra.plugins.module_utils import access_checks

    expected, bounds = bracket(expected, None if expected_row_counts else expected_after)
    checks = []
    conn = connect(None)
    try:
        with conn.cursor() as cur:
            want_checksums = bool(expected.get("checksums")) and expected_row_counts is None
            tables = sorted(set(expected["row_counts"]) | set(expected_row_counts or {}))
            cur.execute(TABLES_SQL, {"schema": schema})
            present = set(r[0] for r in cur.fetchall())
            actual = database_facts(cur, schema, log_table, checksums=want_checksums,
                                    tables=[t for t in tables if t in present])
            checks.append(_check(
                "schema_version", actual["schema_version"] == expected["schema_version"]
                and actual["applied_versions"] == expected["applied_versions"],
                "restored %s, source %s" % (actual["schema_version"], expected["schema_version"]),
                restored=actual["schema_version"], source=expected["schema_version"]))
            running = actual["running_migrations"]
            checks.append(_check(
                "no_migration_in_progress", not running,
                "no unfinished migration attempt" if not running else
                "the restored state is half-migrated: unfinished attempt of %s" % ", ".join(r["version"] for r in running)))
            want_counts = dict(expected["row_counts"])
            want_counts.update(expected_row_counts or {})
            if bounds:
                want_counts = dict((t, bounds[t][0] if bounds[t][0] == bounds[t][1] else "%d..%d" % bounds[t])
                                   for t in bounds)
            missing = sorted(t for t in want_counts if t not in present)

            def count_ok(table):
                got = actual["row_counts"].get(table)
                if bounds:
                    return got is not None and bounds[table][0] <= got <= bounds[table][1]
                return got == want_counts[table]
            diff = dict((t, dict(expected=want_counts[t], restored=actual["row_counts"].get(t)))
                        for t in sorted(want_counts) if not count_ok(t))
            checks.append(_check(
                "row_counts", not diff,
                ("%d tables, %d rows, equal to %s" % (len(want_counts), sum(want_counts.values()),
                                                      "the expected counts given" if expected_row_counts else expectations_from)
                 if not bounds else
                 "%d tables, %d rows, each within the source's counts read before and after the backup point (%s; %d "
                 "tables changed in between)" % (len(want_counts), sum(actual["row_counts"].get(t, 0) for t in bounds),
                                                 expectations_from, sum(1 for lo, hi in bounds.values() if lo != hi)))
                if not diff else "differs on %s%s" % (", ".join("%s (expected %s, restored %s)" % (
                    t, d["expected"], d["restored"]) for t, d in diff.items()),
                    "; missing tables: %s" % ", ".join(missing) if missing else ""),
                differences=diff))
            if want_checksums:
                bad = sorted(t for t, s in expected["checksums"].items() if actual["checksums"].get(t) != s)
                checks.append(_check("data_checksums", not bad,
                                     "per-table checksums identical on %d tables" % len(expected["checksums"]) if not bad
                                     else "data differs on %s" % ", ".join(bad), tables=bad))
            config = access_checks.AccessConfig(schemas=[schema], protected_tables=list(protected_tables), app_roles=[])
            status = access_checks.protected_table_status(access_checks.gather(cur, config), config)
            bad = [s["table"] for s in status if not (s["exists"] and s["rls_enabled"] and s["rls_forced"])]
            checks.append(_check("rls_enabled_and_forced", not bad and status, access_checks.rls_summary(status),
                                 tables=status))
            wanted_ext = dict(expected.get("extensions", {}))
            for name in required_extensions or []:
                wanted_ext.setdefault(name, None)
            absent = sorted(n for n in wanted_ext if n not in actual["extensions"])
            checks.append(_check(
                "extensions", not absent,
                ", ".join("%s %s" % (n, actual["extensions"][n]) for n in sorted(wanted_ext) if n in actual["extensions"])
                + ("; missing: %s" % ", ".join(absent) if absent else ""), missing=absent))
            if app_login:
                checks.append(_app_login_check(connect, cur, app_login, [s["table"] for s in status if s["exists"]]))
            else:
                checks.append(_check("app_login", False, "no application login given to test (app_login)"))
    finally:
        conn.close()
    return checks, actual


def _app_login_check(connect, super_cur, login, tables):
    """Log in as the application user: row-level security must be active, show nothing
    without a user context and only the user's own rows with one."""
    name = "app_login"
    super_cur.execute("SELECT rolcanlogin, rolsuper OR rolbypassrls FROM pg_catalog.pg_roles WHERE rolname = %s", (login,))
    row = super_cur.fetchone()
    if not row:
        return _check(name, False, "role %s does not exist on the restored server (the backup has no roles for it)" % login)
    if not row[0] or row[1]:
        return _check(name, False, "role %s cannot log in, or bypasses row-level security" % login)
    # Protected tables the application may not read at all (internal ones written by triggers)
    # are left out: the check is about what the application's login sees through RLS.
    readable = []
    for table in tables:
        super_cur.execute("SELECT has_table_privilege(%s, %s::regclass, 'SELECT')", (login, table))
        if super_cur.fetchone()[0]:
            readable.append(table)
    tables = readable
    totals = {}
    for table in tables:
        super_cur.execute("SELECT count(*) FROM %s" % ".".join(quote_ident(p) for p in table.split(".")))
        totals[table] = super_cur.fetchone()[0]
    super_cur.execute("SELECT to_regclass('public.users') IS NOT NULL")
    user_id = None
    if super_cur.fetchone()[0]:
        super_cur.execute("SELECT id::text FROM public.users ORDER BY id LIMIT 1")
        found = super_cur.fetchone()
        user_id = found[0] if found else None
    try:
        conn = connect(login)
    except Exception as exc:  # noqa: BLE001 - any failure to log in is the check's answer
        return _check(name, False, "login as %s failed: %s" % (login, str(exc).strip().splitlines()[0]))
    leaks, own, inactive = [], {}, []
    try:
        conn.autocommit = False
        conn.set_session(readonly=True)
        with conn.cursor() as cur:
            for table in tables:
                qualified = ".".join(quote_ident(p) for p in table.split("."))
                cur.execute("SELECT row_security_active(%s::regclass), (SELECT count(*) FROM " + qualified + ")", (table,))
                active, visible = cur.fetchone()
                if not active:
                    inactive.append(table)
                if visible:
                    leaks.append("%s (%d rows without a user context)" % (table, visible))
            if user_id:
                cur.execute("SELECT set_current_user_id(%s::uuid)", (user_id,))
                for table in tables:
                    cur.execute("SELECT count(*) FROM " + ".".join(quote_ident(p) for p in table.split(".")))
                    own[table] = cur.fetchone()[0]
        conn.rollback()
    except Exception as exc:  # noqa: BLE001 - a failing query is the check's answer
        return _check(name, False, "as %s: %s" % (login, str(exc).strip().splitlines()[0]))
    finally:
        conn.close()
    over = ["%s (%d of %d)" % (t, own[t], totals[t]) for t in own if totals[t] > 1 and own[t] >= totals[t]]
    problems = []
    if inactive:
        problems.append("row-level security not active for %s on %s" % (login, ", ".join(inactive)))
    if leaks:
        problems.append("rows visible without a user context: %s" % ", ".join(leaks))
    if over:
        problems.append("one user sees every row of %s" % ", ".join(over))
    if problems:
        return _check(name, False, "; ".join(problems))
    if user_id:
        detail = "%s logged in; with user %s it sees %d of %d protected rows, none without a user context" % (
            login, user_id, sum(own.values()), sum(totals.values()))
    else:
        detail = "%s logged in; row-level security active on %d tables, no rows visible without a user context" % (
            login, len(tables))
    return _check(name, True, detail, visible_with_context=own)


def build_report(meta, backup_dir, checks, restore_seconds, method, expectations_from, target=None, started_at=None):
    taken = parse_time(meta["taken_at"])
    finished = now_utc()
    report = dict(
        passed=all(c["passed"] for c in checks) and bool(checks),
        method=method, database=meta.get("database"), backup=backup_dir, backup_taken_at=meta["taken_at"],
        backup_age_seconds=int((parse_time(started_at) if started_at else finished).timestamp() - taken.timestamp()),
        restore_seconds=round(float(restore_seconds), 2), recovery_target=target, expectations_from=expectations_from,
        finished_at=isoformat(finished), checks=checks,
    )
    report["summary"] = summary_lines(report)
    return report


def summary_lines(report):
    lines = ["restore drill %s: %s backup of %s taken %s (age %s), restored in %.1f s%s" % (
        "PASSED" if report["passed"] else "FAILED", report["method"], report["database"], report["backup_taken_at"],
        _age(report["backup_age_seconds"]), report["restore_seconds"],
        " to %s" % report["recovery_target"] if report.get("recovery_target") else "")]
    for check in report["checks"]:
        lines.append("  %-24s %s  %s" % (check["name"], "pass" if check["passed"] else "FAIL", check["detail"]))
    return lines


def _age(seconds):
    seconds = max(int(seconds), 0)
    if seconds < 120:
        return "%d s" % seconds
    if seconds < 7200:
        return "%d min" % (seconds // 60)
    if seconds < 172800:
        return "%.1f h" % (seconds / 3600.0)
    return "%.1f days" % (seconds / 86400.0)


def write_report(path, report):
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as handle:
        json.dump(report, handle, indent=2, sort_keys=True, default=str)
    os.replace(tmp, path)
