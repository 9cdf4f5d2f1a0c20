"""The restore drill (playbooks/restore_drill.yml, roles/restore_drill) against a real, seeded source.

Every method is really executed: pg_dump -Fc + pg_restore, and pg_basebackup + WAL archive
replayed to a point in time, each into a temporary cluster that is removed afterwards.
The source is checked to be untouched (its per-table checksums) after every drill.
"""

import json
import os
import shutil
import tempfile
import threading
import time

import psycopg2
import pytest
from restore_helpers import DATABASE, drill, leftover_targets, reports, table_checksums

from support.collection import ensure_collection_link

ensure_collection_link()

from ansible_collections.sensa.infra.plugins.module_utils import backup_restore, pg_cluster  # noqa: E402
from ansible_collections.sensa.infra.plugins.module_utils.migration_runner import lock_key  # noqa: E402

ALL_CHECKS = {"schema_version", "no_migration_in_progress", "row_counts", "data_checksums", "rls_enabled_and_forced",
              "extensions", "app_login"}


def checks_by_name(report):
    return dict((c["name"], c) for c in report["checks"])


def test_logical_drill_restores_a_seeded_database_with_every_check_passing(source, tmp_path):
    cluster, _archive, inventory = source
    before = table_checksums(cluster)
    assert before["courses"][0] > 0 and before["processed_documents"][0] > 0  # really seeded

    result = drill(inventory, str(tmp_path))

    assert result.returncode == 0, result
    assert "restore drill PASSED" in result.stdout
    [report] = reports(str(tmp_path))
    assert report["passed"] is True and report["method"] == "logical"
    checks = checks_by_name(report)
    assert set(checks) == ALL_CHECKS and all(c["passed"] for c in checks.values()), report
    assert "sees" in checks["app_login"]["detail"]  # the application login read its own rows through RLS
    assert report["restore_seconds"] > 0 and report["backup_age_seconds"] >= 0
    assert os.path.isfile(os.path.join(str(tmp_path), "reports",
                                       os.listdir(os.path.join(str(tmp_path), "reports"))[0].replace(".json", ".txt")))
    assert leftover_targets(str(tmp_path)) == []
    assert table_checksums(cluster) == before


def test_logical_round_trip_has_identical_per_table_checksums(source, tmp_path):
    """Independent of the drill's own checksum: the test's checksums of source and restore."""
    cluster, _archive, _inventory = source
    before = table_checksums(cluster)
    meta = backup_restore.take_logical(cluster.conninfo(DATABASE), cluster.bindir, str(tmp_path / "set"))
    short = tempfile.mkdtemp(prefix="sl-")  # unix socket paths are limited to 107 bytes
    target = pg_cluster.Cluster(os.path.join(short, "target"), engine=cluster.engine)
    try:
        backup_restore.check_files(str(tmp_path / "set"), meta, target.bindir)
        backup_restore.restore_logical(str(tmp_path / "set"), target)
        assert table_checksums(target) == before
    finally:
        target.destroy()
        shutil.rmtree(short, ignore_errors=True)


def _insert_users(cluster, prefix, count):
    cluster.psql("INSERT INTO public.users (cognito_sub, email) SELECT '%s-' || g, '%s' || g || '@example.org' "
                 "FROM generate_series(1, %d) g" % (prefix, prefix, count), dbname=DATABASE)


def test_physical_point_in_time_restore_leaves_out_rows_written_after_the_chosen_time(source, tmp_path):
    cluster, archive, inventory = source
    local_dir = str(tmp_path)
    # A drill with a new physical backup: base backup + mark, restored to that mark.
    result = drill(inventory, local_dir, restore_drill_method="physical", restore_drill_wal_archive_dir=archive)
    assert result.returncode == 0, result
    [first] = reports(local_dir)
    assert first["passed"] and first["method"] == "physical" and "restore point" in first["recovery_target"]
    backup_set = os.path.join(local_dir, "backups", "drill_db", os.listdir(os.path.join(local_dir, "backups", "drill_db"))[0])

    # Rows before the chosen time are in the restore, rows after it are not.
    _insert_users(cluster, "before-t", 7)
    time.sleep(1.0)
    chosen = cluster.psql("SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')").strip()
    at_chosen = table_checksums(cluster)
    time.sleep(1.0)
    _insert_users(cluster, "after-t", 5)
    cluster.psql("SELECT pg_switch_wal()")  # archive the commit after the chosen time

    meta = backup_restore.read_metadata(backup_set)
    short = tempfile.mkdtemp(prefix="sp-")  # unix socket paths are limited to 107 bytes
    target = pg_cluster.Cluster(os.path.join(short, "pitr"), engine=cluster.engine)
    try:
        backup_restore.restore_physical(backup_set, meta, target, target_time=chosen)
        assert target.psql("SELECT count(*) FROM public.users WHERE cognito_sub LIKE 'before-t-%'", dbname=DATABASE).strip() == "7"
        assert target.psql("SELECT count(*) FROM public.users WHERE cognito_sub LIKE 'after-t-%'", dbname=DATABASE).strip() == "0"
        assert table_checksums(target) == at_chosen
    finally:
        target.destroy()
        shutil.rmtree(short, ignore_errors=True)

    # The same restore as a drill: the operator gives the time and the counts at that time.
    counts = dict((t, v[0]) for t, v in at_chosen.items())
    result = drill(inventory, local_dir, restore_drill_method="physical", restore_drill_backup=backup_set,
                   restore_drill_recovery_target_time=chosen, restore_drill_expected_row_counts=counts)
    assert result.returncode == 0, result
    second = [r for r in reports(local_dir) if r is not None and r.get("recovery_target", "").startswith("recovery_target_time")]
    assert second and second[0]["passed"], second
    assert checks_by_name(second[0])["row_counts"]["passed"]
    assert leftover_targets(local_dir) == []


def _copy_set(src, dest):
    shutil.copytree(src, dest)
    return dest


def test_corrupted_or_truncated_backup_fails_the_drill_and_never_touches_the_source(source, tmp_path):
    cluster, _archive, inventory = source
    good = str(tmp_path / "good")
    backup_restore.take_logical(cluster.conninfo(DATABASE), cluster.bindir, good)
    before = table_checksums(cluster)

    truncated = _copy_set(good, str(tmp_path / "truncated"))
    dump = os.path.join(truncated, "db.dump")
    with open(dump, "r+b") as handle:
        handle.truncate(os.path.getsize(dump) // 2)
    corrupted = _copy_set(good, str(tmp_path / "corrupted"))
    dump = os.path.join(corrupted, "db.dump")
    with open(dump, "r+b") as handle:
        handle.seek(os.path.getsize(dump) // 2)
        handle.write(b"\x00garbage\x00" * 8)

    # Through the playbook for the truncated file; the same check, called directly, for the corrupted one.
    local_dir = str(tmp_path / "run-truncated")
    result = drill(inventory, local_dir, restore_drill_backup=truncated)
    assert result.returncode != 0, result
    assert "restore drill FAILED" in result.stdout and "is truncated or corrupted" in result.stdout, result
    [report] = reports(local_dir)
    assert report["passed"] is False and "is truncated or corrupted" in report["error"]
    assert leftover_targets(local_dir) == []
    with pytest.raises(backup_restore.BackupError, match="db.dump is corrupted: sha256"):
        backup_restore.check_files(corrupted, backup_restore.read_metadata(corrupted), cluster.bindir)
    assert table_checksums(cluster) == before


def test_drill_waits_for_a_running_migration_or_refuses_it(source, tmp_path):
    cluster, _archive, inventory = source
    conn = psycopg2.connect(application_name="sensa.pg_migrate", **cluster.conninfo(DATABASE))
    conn.autocommit = True
    key = lock_key(DATABASE, "public", "migrations_log")
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_lock(%s)", (key,))
    try:
        refused_dir = str(tmp_path / "refused")
        result = drill(inventory, refused_dir, restore_drill_lock_wait=2)
        assert result.returncode != 0, result
        assert "is mid-migration" in result.stdout and "application_name 'sensa.pg_migrate'" in result.stdout, result
        backups = os.path.join(refused_dir, "backups", "drill_db")
        assert not any(os.path.isfile(os.path.join(backups, d, "backup.json")) for d in os.listdir(backups)) \
            if os.path.isdir(backups) else True
        assert leftover_targets(refused_dir) == []

        # The lock goes away while the drill waits: it then backs up the finished state.
        def release_when_the_backup_waits():
            # The backup's connection (application_name sensa.pg_backup) appears, then it polls for the lock.
            assert pg_cluster.wait_for(lambda: cluster.psql(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sensa.pg_backup'").strip() != "0",
                timeout=120, interval=0.2)
            time.sleep(1.5)
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", (key,))

        release = threading.Thread(target=release_when_the_backup_waits)
        release.start()
        waited_dir = str(tmp_path / "waited")
        result = drill(inventory, waited_dir, restore_drill_lock_wait=120)
        release.join()
        assert result.returncode == 0, result
        [backup] = os.listdir(os.path.join(waited_dir, "backups", "drill_db"))
        meta = json.load(open(os.path.join(waited_dir, "backups", "drill_db", backup, "backup.json")))
        assert meta["lock_waited_seconds"] >= 1.0
    finally:
        conn.close()


def test_a_half_migrated_database_is_refused_and_nothing_is_written(source, tmp_path):
    """An unfinished no-transaction migration attempt ('running' in migrations_log) is a
    half-migrated schema: the backup refuses it instead of saving that state."""
    cluster, _archive, _inventory = source
    cluster.psql('CREATE DATABASE half TEMPLATE "%s"' % DATABASE)
    try:
        cluster.psql("INSERT INTO public.migrations_log (run_id, version, filename, kind, status) "
                     "VALUES (gen_random_uuid(), '20991231_0001', '20991231_0001_half.sql', 'migrate', 'running')",
                     dbname="half")
        with pytest.raises(backup_restore.BackupError, match="half-migrated.*20991231_0001"):
            backup_restore.take_logical(cluster.conninfo("half"), cluster.bindir, str(tmp_path / "half"))
        assert not os.path.exists(str(tmp_path / "half" / "backup.json"))
        assert not os.path.exists(str(tmp_path / "half" / "db.dump"))
    finally:
        cluster.drop_database("half")
