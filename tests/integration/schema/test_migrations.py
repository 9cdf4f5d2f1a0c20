"""Applying and rolling back the migrations: idempotence, round trip, pg_migrate's table."""

import os
import re
import subprocess
import sys

import pytest
from sensa_schema_helpers import prepare_database

from ansible_collections.sensa.infra.plugins.module_utils import migration_log
from support.schema import MIGRATIONS_DIR, ROLLBACKS_DIR, apply_schema, migration_files, rollback_schema, run_file

VERSIONS = [v for v, _up, _down in migration_files()]


def dump_without_log(db):
    """The schema dump minus pg_migrate's own objects (they pre-exist and 0001 comments them)."""
    chunks = db.pg_dump_schema().split("\n--\n-- Name: ")
    keep = [c for c in chunks if not re.search(r"migrations_(log|state)", c.splitlines()[0])]
    return "\n--\n-- Name: ".join(keep)


def create_module_log(db):
    """What pg_migrate does before running any file."""
    fmt = dict(schema="public", table="migrations_log", index="migrations_log_version_idx", view="migrations_state")
    db.psql(";\n".join(sql.format(**fmt) for sql in
                       (migration_log.CREATE_TABLE, migration_log.CREATE_INDEX, migration_log.CREATE_STATE_VIEW)))


def test_nine_migrations_each_with_rollback():
    names = sorted(os.listdir(MIGRATIONS_DIR))
    assert [v[-4:] for v in VERSIONS] == ["0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009"]
    for version, up, down in migration_files():
        assert down and os.path.basename(down) == version + "_rollback.sql", version
        for path in (up, down):
            head = open(path).read().lstrip()
            assert head.startswith("--"), "%s needs a header comment" % path
            code = "\n".join(line.split("--")[0] for line in open(path).read().splitlines()).upper()
            assert not re.search(r"^\s*(BEGIN|COMMIT|ROLLBACK|START\s+TRANSACTION)\s*;", code, re.M), path
            assert "CONCURRENTLY" not in code, path
    assert names == sorted(os.path.basename(up) for _v, up, _down in migration_files())  # forward migrations only


@pytest.mark.parametrize("version", VERSIONS)
def test_each_migration_twice_is_a_noop(pg_db, version):
    prepare_database(pg_db)
    files = {v: up for v, up, _down in migration_files()}
    apply_schema(pg_db, upto=version)
    once = pg_db.pg_dump_schema()
    run_file(pg_db, files[version])
    assert pg_db.pg_dump_schema() == once


@pytest.mark.parametrize("version", VERSIONS)
def test_each_rollback_twice_is_a_noop(pg_db, version):
    prepare_database(pg_db)
    downs = {v: down for v, _up, down in migration_files()}
    apply_schema(pg_db)
    rollback_schema(pg_db, down_to=VERSIONS[VERSIONS.index(version) - 1] if version != VERSIONS[0] else None)
    once = pg_db.pg_dump_schema()
    run_file(pg_db, downs[version])
    assert pg_db.pg_dump_schema() == once


def test_apply_all_rollback_all_apply_again(pg_db):
    prepare_database(pg_db)
    create_module_log(pg_db)
    before = dump_without_log(pg_db)
    apply_schema(pg_db)
    applied = pg_db.pg_dump_schema()
    assert dump_without_log(pg_db) != before
    rollback_schema(pg_db)
    assert dump_without_log(pg_db) == before
    apply_schema(pg_db)
    assert pg_db.pg_dump_schema() == applied


def test_each_rollback_restores_the_previous_state(pg_db):
    prepare_database(pg_db)
    create_module_log(pg_db)
    dumps = [dump_without_log(pg_db)]
    for version in VERSIONS:
        apply_schema(pg_db, upto=version)
        dumps.append(dump_without_log(pg_db))
    for i in range(len(VERSIONS) - 1, -1, -1):
        rollback_schema(pg_db, down_to=VERSIONS[i - 1] if i else None)
        assert dump_without_log(pg_db) == dumps[i], "rolling back %s" % VERSIONS[i]


def test_0001_rollback_keeps_migrations_log(pg_db):
    prepare_database(pg_db)
    apply_schema(pg_db, upto="0001")
    rollback_schema(pg_db)
    # The table survives its own migration's rollback, and records that rollback.
    assert pg_db.query("SELECT kind, status FROM migrations_log ORDER BY id") == [
        ("migrate", "success"), ("rollback", "success")]
    assert pg_db.scalar("SELECT applied FROM migrations_state WHERE version = %s", (VERSIONS[0],)) is False


def test_applies_on_a_bare_database_as_superuser(pg_db):
    """0001 installs the extensions itself when the extensions stage did not run."""
    apply_schema(pg_db)
    exts = {r[0] for r in pg_db.query("SELECT extname FROM pg_extension")}
    assert {"vector", "pg_trgm"} <= exts


def test_applies_as_migrator_who_owns_everything(app_db):
    owners = app_db.query(
        "SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c "
        "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'v', 'i', 'S')")
    assert owners == [("sensa_migrator",)]
    fowners = app_db.query(
        "SELECT DISTINCT pg_get_userbyid(p.proowner) FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' "
        "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')")
    assert fowners == [("sensa_migrator",)]


def _columns_and_checks(db):
    cols = db.query(
        "SELECT column_name, data_type, is_nullable, column_default, is_identity, identity_generation "
        "FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'migrations_log' "
        "ORDER BY ordinal_position")
    checks = db.query(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'public.migrations_log'::regclass "
        "ORDER BY 1")
    index = db.scalar("SELECT pg_get_indexdef('public.migrations_log_version_idx'::regclass)")
    view = db.scalar("SELECT pg_get_viewdef('public.migrations_state'::regclass)")
    return cols, checks, index, view


def test_migrations_log_matches_pg_migrate_ddl(pg_server, pg_db):
    prepare_database(pg_db)
    apply_schema(pg_db, upto="0001")
    name = "t_mlog_" + os.urandom(4).hex()
    pg_server.create_database(name)
    try:
        other = type(pg_db)(pg_server, name, None)
        create_module_log(other)
        ours, theirs = _columns_and_checks(pg_db), _columns_and_checks(other)
        assert [c[0] for c in ours[0]] == list(migration_log.COLUMNS)
        assert ours == theirs
    finally:
        pg_server.drop_database(name)


def test_squawk_is_clean():
    squawk = os.path.join(os.path.dirname(sys.executable), "squawk")
    if not os.path.exists(squawk):
        pytest.skip("squawk not installed in this virtualenv")
    files = sorted(os.path.join(d, f) for d in (MIGRATIONS_DIR, ROLLBACKS_DIR) for f in os.listdir(d) if f.endswith(".sql"))
    proc = subprocess.run([squawk] + files, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
