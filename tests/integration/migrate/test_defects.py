"""The ten defects of issue 11, each reproduced against a real server.

Every test here failed before its fix. Faults are real: a backend ended with
pg_terminate_backend from another session, a runner process killed with SIGKILL, an
INVALID index left by a failed CREATE INDEX CONCURRENTLY.
"""

import os
import signal
import threading
import time

import pytest
from migrate_helpers import log_rows, migrate, runner_for, spawn_victim, table_exists

from ansible_collections.sensa.infra.plugins.module_utils.migration_files import MigrationError
from ansible_collections.sensa.infra.plugins.module_utils.migration_runner import MigrationFailed


def wait_until(predicate, timeout=30.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail("timed out waiting for %s" % what)


def backend_running(db, fragment, application_name="sensa.pg_migrate.test"):
    return db.scalar(
        "SELECT pid FROM pg_stat_activity WHERE application_name = %s AND state = 'active' AND query LIKE %s",
        (application_name, "%" + fragment + "%"))


def invalid_indexes(db):
    return [r[0] for r in db.query(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE NOT i.indisvalid ORDER BY 1")]


# 1 -----------------------------------------------------------------------------------------
def test_1_semicolon_in_parentheses_runs_like_psql(pg_db, tree):
    tree.add("20250101_0001", "rule",
             "CREATE TABLE t (id int);\nCREATE TABLE a (id int);\nCREATE TABLE b (id int);\n"
             "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\n")
    migrate(pg_db, tree)
    pg_db.psql("INSERT INTO t VALUES (1)")
    assert pg_db.scalar("SELECT count(*) FROM a") == 1 and pg_db.scalar("SELECT count(*) FROM b") == 1


# 2 -----------------------------------------------------------------------------------------
def test_2_meta_command_after_sql_is_refused_before_anything_runs(pg_db, tree):
    tree.add("20250101_0001", "meta",
             "-- sensa:no-transaction\nCREATE TABLE first_half (id int);\nSELECT 1 AS x \\gset\n")
    with pytest.raises(MigrationError) as err:
        migrate(pg_db, tree)
    assert "20250101_0001_meta.sql line 3: psql meta-command \\gset" in str(err.value)
    assert not table_exists(pg_db, "first_half")
    assert not table_exists(pg_db, "migrations_log") or pg_db.scalar("SELECT count(*) FROM migrations_log") == 0


# 3 -----------------------------------------------------------------------------------------
def _duplicates_then_unique_index(tree):
    tree.add("20250101_0001", "table", "CREATE TABLE d (a int);\nINSERT INTO d VALUES (1), (1);\n")
    tree.add("20250101_0002", "unique",
             "-- sensa:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS d_a_key ON d (a);\n")


def test_3_rerun_of_if_not_exists_rebuilds_the_invalid_index(pg_db, tree):
    _duplicates_then_unique_index(tree)
    with pytest.raises(MigrationFailed):
        migrate(pg_db, tree)
    assert invalid_indexes(pg_db) == ["d_a_key"]
    pg_db.psql("DELETE FROM d WHERE ctid = (SELECT max(ctid) FROM d)")
    result = migrate(pg_db, tree)  # IF NOT EXISTS alone would skip the invalid index and log success
    assert [a["version"] for a in result["applied"]] == ["20250101_0002"]
    assert invalid_indexes(pg_db) == [] and pg_db.scalar("SELECT to_regclass('d_a_key') IS NOT NULL")
    assert any("d_a_key" in w and "invalid" in w for w in result["warnings"])


def test_3_no_success_is_logged_while_the_index_stays_invalid(pg_db, tree):
    _duplicates_then_unique_index(tree)
    for _attempt in range(2):  # the duplicates stay: each run fails, none records success
        with pytest.raises(MigrationFailed) as err:
            migrate(pg_db, tree)
        assert "d_a_key" in str(err.value) and err.value.details["invalid_indexes"]
    assert [r[2] for r in log_rows(pg_db) if r[0] == "20250101_0002"] == ["failed", "failed"]


def test_3_lock_timeout_retry_of_concurrent_build_ends_with_a_valid_index(pg_db, tree):
    pg_db.psql("CREATE TABLE w (a int)")
    tree.add("20250101_0001", "index",
             "-- sensa:no-transaction\n-- sensa:lock_timeout=200ms\n"
             "CREATE INDEX CONCURRENTLY IF NOT EXISTS w_a ON w (a);\n")
    writer = pg_db.connect(autocommit=False)
    writer.cursor().execute("INSERT INTO w VALUES (1)")  # an open writer: the build waits for it
    timer = threading.Timer(1.5, writer.rollback)
    timer.start()
    try:
        result = migrate(pg_db, tree, lock_retries=10, retry_backoff=0.1)
    finally:
        timer.join()
        writer.close()
    assert any("lock_timeout" in w for w in result["warnings"])
    assert invalid_indexes(pg_db) == [] and pg_db.scalar("SELECT to_regclass('w_a') IS NOT NULL")
    assert [r[2] for r in log_rows(pg_db)] == ["success"]


# 4 -----------------------------------------------------------------------------------------
def _run_in_thread(target):
    box = {}

    def work():
        try:
            box["result"] = target()
        except BaseException as exc:  # noqa: BLE001 - inspected by the test
            box["error"] = exc

    thread = threading.Thread(target=work)
    thread.start()
    return thread, box


def test_4_terminated_backend_in_a_transactional_file_is_a_clean_failure(pg_db, tree):
    tree.add("20250101_0001", "slow", "CREATE TABLE slow (id int);\nSELECT pg_sleep(30);\n")
    thread, box = _run_in_thread(lambda: migrate(pg_db, tree))
    pid = wait_until(lambda: backend_running(pg_db, "pg_sleep"), what="the slow statement")
    pg_db.scalar("SELECT pg_terminate_backend(%s)", (pid,))
    thread.join(30)
    error = box.get("error")
    assert isinstance(error, MigrationFailed), box
    assert "20250101_0001_slow.sql" in str(error) and "connection" in str(error).lower()
    assert not table_exists(pg_db, "slow")
    assert [r[:3] for r in log_rows(pg_db)] == [("20250101_0001", "migrate", "failed")]


def test_4_terminated_backend_in_a_concurrent_build_closes_the_row_and_names_the_index(pg_db, tree):
    pg_db.psql("CREATE TABLE w (a int)")
    tree.add("20250101_0001", "index", "-- sensa:no-transaction\nCREATE INDEX CONCURRENTLY w_a ON w (a);\n")
    writer = pg_db.connect(autocommit=False)
    writer.cursor().execute("INSERT INTO w VALUES (1)")  # the build waits for this writer
    try:
        thread, box = _run_in_thread(lambda: migrate(pg_db, tree, lock_timeout="0"))
        pid = wait_until(lambda: backend_running(pg_db, "CONCURRENTLY"), what="the index build")
        wait_until(lambda: invalid_indexes(pg_db) == ["w_a"], what="the index entry")
        pg_db.scalar("SELECT pg_terminate_backend(%s)", (pid,))
        thread.join(30)
    finally:
        writer.close()
    error = box.get("error")
    assert isinstance(error, MigrationFailed), box
    assert "20250101_0001_index.sql" in str(error) and "DROP INDEX CONCURRENTLY IF EXISTS public.w_a" in str(error)
    assert [i["index"] for i in error.details["invalid_indexes"]] == ["public.w_a"]
    rows = log_rows(pg_db)
    assert [r[:3] for r in rows] == [("20250101_0001", "migrate", "failed")] and rows[0][5]


# 5 and 9 ------------------------------------------------------------------------------------
SLEEP_IN_VICTIM = "SELECT pg_sleep(CASE WHEN current_setting('sensa.test_sleep', true) = 'on' THEN 60 ELSE 0 END);\n"


def start_victim(db, tree, repo_root, tmp_path):
    proc = spawn_victim(db, tree, repo_root, tmp_path)
    try:
        pid = wait_until(lambda: backend_running(db, "pg_sleep", application_name="victim"), what="the victim")
    except BaseException:
        proc.kill()
        raise
    return proc, pid


def test_5_abandoned_running_row_is_closed_once_and_never_warned_again(pg_db, tree, repo_root, tmp_path):
    tree.add("20250101_0001", "notx", "-- sensa:no-transaction\nCREATE TABLE IF NOT EXISTS n (id int);\n" + SLEEP_IN_VICTIM)
    proc, _pid = start_victim(pg_db, tree, repo_root, tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    first = migrate(pg_db, tree, lock_wait=60)
    assert [a["version"] for a in first["applied"]] == ["20250101_0001"]
    assert any("abandoned" in w for w in first["warnings"])
    for _run in range(2):
        later = migrate(pg_db, tree)
        assert not later["changed"] and later["warnings"] == [], later["warnings"]
    assert pg_db.scalar("SELECT count(*) FROM migrations_log WHERE status = 'running'") == 0
    assert [r[2] for r in log_rows(pg_db)] == ["failed", "success"]


def test_9_lock_is_held_by_the_migrating_session_and_dies_with_it(pg_db, tree, repo_root, tmp_path):
    tree.add("20250101_0001", "slow", "CREATE TABLE slow (id int);\n" + SLEEP_IN_VICTIM)
    proc, pid = start_victim(pg_db, tree, repo_root, tmp_path)
    holder = runner_for(pg_db, tree, check_mode=True).run("status")["lock_holder"]
    assert holder and holder["pid"] == pid  # the backend running the file holds the lock
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    start = time.monotonic()
    result = migrate(pg_db, tree, lock_wait=45)  # waits for the orphan, which ends on its own
    assert [a["version"] for a in result["applied"]] == ["20250101_0001"]
    assert time.monotonic() - start < 45
    assert not pg_db.scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,))
    assert not result["warnings"] or all("lock_timeout" not in w for w in result["warnings"])


# 6 -----------------------------------------------------------------------------------------
def test_6_no_transaction_fix_runs_once(pg_db, tree):
    tree.add("20250101_0001", "t", "CREATE TABLE t (a int);\n")
    migrate(pg_db, tree)
    tree.add("20250101_0001", "t", "CREATE TABLE t (a int);\nCREATE INDEX t_a ON t (a);\n")
    tree.write("fixes/20250101_0001_apply_fix.sql",
               "-- sensa:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a);\n")
    results = [migrate(pg_db, tree) for _run in range(3)]
    assert [r["changed"] for r in results] == [True, False, False]
    assert [r[1] for r in log_rows(pg_db)] == ["migrate", "fix"]
    recorded = pg_db.scalar("SELECT checksum FROM migrations_log WHERE kind = 'fix'")
    assert recorded == results[0]["fixed"][0]["new_checksum"]


# 7 -----------------------------------------------------------------------------------------
def test_7_failure_after_a_committed_file_reports_what_was_applied(pg_db, tree):
    tree.add("20250101_0001", "ok", "CREATE TABLE ok (id int);\n")
    tree.add("20250101_0002", "bad", "SELECT * FROM nowhere;\n")
    with pytest.raises(MigrationFailed) as err:
        migrate(pg_db, tree)
    result = err.value.result
    assert result.changed is True and [a["version"] for a in result.applied] == ["20250101_0001"]
    assert result.current_version == "20250101_0001" and result.pending == ["20250101_0002"]


def test_7_module_failure_after_a_committed_file_is_changed(pg_db, tree):
    from test_module import run

    tree.add("20250101_0001", "ok", "CREATE TABLE ok (id int);\n")
    tree.add("20250101_0002", "bad", "SELECT * FROM nowhere;\n")
    result = run(pg_db, tree)
    assert result.returncode != 0
    # the failed task's result (the recap counts a failed task as failed, never as changed)
    failed = result.stdout.split("FAILED! =>", 1)[1]
    assert "\n    changed: true\n" in failed and "version: '20250101_0001'" in failed, result


# 8 -----------------------------------------------------------------------------------------
def test_8_application_name_is_honoured(pg_db, tree):
    from test_module import run

    tree.add("20250101_0001", "who", "CREATE TABLE who AS SELECT current_setting('application_name') AS app;\n")
    assert run(pg_db, tree, application_name="deploy-1234").returncode == 0
    assert pg_db.scalar("SELECT app FROM who") == "deploy-1234"


def test_8_status_reports_drift_instead_of_failing(pg_db, tree):
    from test_module import result_of, run

    tree.add("20250101_0001", "t", "CREATE TABLE t (id int);\n")
    assert run(pg_db, tree).returncode == 0
    tree.add("20250101_0001", "t", "CREATE TABLE t (id bigint);\n")
    status = run(pg_db, tree, state="status")
    assert status.returncode == 0, status
    data = result_of(status)
    assert [d["version"] for d in data["drift"]] == ["20250101_0001"] and not data["changed"]
