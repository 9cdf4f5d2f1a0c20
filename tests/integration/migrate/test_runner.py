"""pg_migrate's engine against a real server: every rule of the migration contract."""

import os
import signal
import textwrap
import threading
import time

import psycopg2
import pytest
from migrate_helpers import log_rows, migrate, runner_for, spawn_victim, table_exists

from ansible_collections.sensa.infra.plugins.module_utils.migration_files import MigrationError
from ansible_collections.sensa.infra.plugins.module_utils.migration_runner import (
    LockTimeout,
    MigrationFailed,
    lock_key,
)


def test_apply_then_nothing_to_do(pg_db, tree):
    tree.add("20250101_0001", "create_a", "CREATE TABLE a (id int PRIMARY KEY);\nINSERT INTO a VALUES (1);\n",
             "DROP TABLE a;\n")
    tree.add("20250101_0002", "create_b", "CREATE TABLE b (id int);\n", "DROP TABLE b;\n")
    first = migrate(pg_db, tree)
    assert first["changed"] and [a["version"] for a in first["applied"]] == ["20250101_0001", "20250101_0002"]
    assert first["current_version"] == "20250101_0002" and first["previous_version"] is None
    second = migrate(pg_db, tree)
    assert not second["changed"] and second["applied"] == []
    rows = log_rows(pg_db)
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("20250101_0001", "migrate", "success", 2), ("20250101_0002", "migrate", "success", 1)]
    state = pg_db.query("SELECT version, applied FROM migrations_state ORDER BY version")
    assert state == [("20250101_0001", True), ("20250101_0002", True)]


def test_log_row_records_who_and_how_long(pg_db, tree):
    tree.add("20250101_0001", "x", "CREATE TABLE x (id int);\n")
    result = migrate(pg_db, tree, controller_user="alice", controller_host="laptop")
    row = pg_db.query("SELECT run_id::text, checksum, db_user, controller_user, controller_host, execution_ms, "
                      "finished_at >= started_at, description FROM migrations_log")[0]
    assert row[0] == result["run_id"] and row[1].startswith("sha256:v1:")
    assert row[2] == "postgres" and row[3:5] == ("alice", "laptop") and row[5] >= 0 and row[6] and row[7] == "x"


def test_failure_mid_file_rolls_back_then_fixed_file_applies(pg_db, tree):
    tree.add("20250101_0001", "ok", "CREATE TABLE ok (id int);\n")
    tree.add("20250101_0002", "broken",
             "CREATE TABLE half (id int);\nINSERT INTO half VALUES (1);\nINSERT INTO missing VALUES (1);\n")
    with pytest.raises(MigrationFailed) as err:
        migrate(pg_db, tree)
    details = err.value.details
    assert details["sqlstate"] == "42P01" and details["line"] == 3 and "missing" in details["statement"]
    assert "20250101_0002_broken.sql" in str(err.value) and "rolled back" in str(err.value)
    assert table_exists(pg_db, "ok") and not table_exists(pg_db, "half")
    rows = log_rows(pg_db)
    assert rows[-1][:3] == ("20250101_0002", "migrate", "failed") and rows[-1][4] == "42P01"
    # no dirty state: fix the file and run again, no force needed
    tree.add("20250101_0002", "broken", "CREATE TABLE half (id int);\nINSERT INTO half VALUES (1);\n")
    result = migrate(pg_db, tree)
    assert [a["version"] for a in result["applied"]] == ["20250101_0002"]
    assert pg_db.scalar("SELECT count(*) FROM half") == 1
    assert [r[2] for r in log_rows(pg_db)] == ["success", "failed", "success"]


def test_transaction_breaking_statements_are_refused_before_anything_runs(pg_db, tree):
    tree.add("20250101_0001", "fine", "CREATE TABLE fine (id int);\n")
    tree.add("20250101_0002", "concurrent", "CREATE TABLE t (a int);\n\nCREATE INDEX CONCURRENTLY t_a ON t (a);\n")
    tree.add("20250101_0003", "explicit", "BEGIN;\nCREATE TABLE u (a int);\nCOMMIT;\n")
    with pytest.raises(MigrationError) as err:
        migrate(pg_db, tree)
    message = str(err.value)
    assert "20250101_0002_concurrent.sql line 3: CREATE INDEX CONCURRENTLY" in message
    assert "20250101_0003_explicit.sql line 1: explicit transaction control" in message
    assert "20250101_0003_explicit.sql line 3" in message
    assert not table_exists(pg_db, "fine")  # nothing ran
    assert pg_db.scalar("SELECT count(*) FROM migrations_log") == 0


def test_no_transaction_file_runs_concurrently(pg_db, tree):
    tree.add("20250101_0001", "table", "CREATE TABLE t (a int);\nINSERT INTO t SELECT generate_series(1, 100);\n")
    tree.add("20250101_0002", "index",
             "-- sensa:no-transaction\n-- builds without blocking writes\n"
             "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a);\nVACUUM ANALYZE t;\n",
             "-- sensa:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS t_a;\n")
    migrate(pg_db, tree)
    assert pg_db.scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = 't_a'::regclass")
    assert log_rows(pg_db)[-1][:4] == ("20250101_0002", "migrate", "success", 2)
    migrate(pg_db, tree, action="rolled_back", target="20250101_0001")
    assert not table_exists(pg_db, "t_a")


def test_failed_concurrent_index_reports_invalid_index_and_cleanup(pg_db, tree):
    tree.add("20250101_0001", "table", "CREATE TABLE d (a int);\nINSERT INTO d VALUES (1), (1);\n")
    tree.add("20250101_0002", "unique",
             "-- sensa:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS d_plain ON d (a);\n"
             "CREATE UNIQUE INDEX CONCURRENTLY d_a_key ON d (a);\n")
    with pytest.raises(MigrationFailed) as err:
        migrate(pg_db, tree)
    message = str(err.value)
    assert "statement 2 of 2" in message and "1 statement(s) before it were committed" in message
    assert "DROP INDEX CONCURRENTLY IF EXISTS public.d_a_key;" in message
    row = log_rows(pg_db)[-1]
    assert row[:4] == ("20250101_0002", "migrate", "failed", 1) and row[4] == "23505"


def test_lock_timeout_is_retried_with_backoff(pg_db, tree):
    pg_db.psql("CREATE TABLE busy (id int)")
    tree.add("20250101_0001", "alter_busy", "-- sensa:lock_timeout=100ms\nALTER TABLE busy ADD COLUMN x int;\n")
    holder = pg_db.connect(autocommit=False)
    holder.cursor().execute("LOCK TABLE busy IN ACCESS EXCLUSIVE MODE")
    timer = threading.Timer(0.8, holder.rollback)
    timer.start()
    try:
        result = migrate(pg_db, tree, lock_retries=8)
    finally:
        timer.join()
        holder.close()
    assert result["applied"][0]["version"] == "20250101_0001"
    assert any("lock_timeout hit" in w for w in result["warnings"])


def test_lock_timeout_gives_up_after_bounded_retries(pg_db, tree):
    pg_db.psql("CREATE TABLE busy2 (id int)")
    tree.add("20250101_0001", "alter_busy", "ALTER TABLE busy2 ADD COLUMN x int;\n")
    holder = pg_db.connect(autocommit=False)
    holder.cursor().execute("LOCK TABLE busy2 IN ACCESS EXCLUSIVE MODE")
    try:
        with pytest.raises(MigrationFailed) as err:
            migrate(pg_db, tree, lock_timeout="50ms", lock_retries=2)
    finally:
        holder.close()
    assert err.value.details["sqlstate"] == "55P03"


def test_migration_lock_wait_names_the_holder(pg_db, tree):
    tree.add("20250101_0001", "x", "CREATE TABLE x (id int);\n")
    holder = psycopg2.connect(application_name="deploy-from-bob", **pg_db.conninfo())
    holder.autocommit = True
    holder.cursor().execute("SELECT pg_advisory_lock(%s)", (lock_key(pg_db.name, "public", "migrations_log"),))
    try:
        with pytest.raises(LockTimeout) as err:
            migrate(pg_db, tree, lock_wait=0.3)
        message = str(err.value)
        assert "held by pid %d since" % holder.get_backend_pid() in message and "'deploy-from-bob'" in message
        status = runner_for(pg_db, tree, check_mode=True).run("status")
        assert status["lock_holder"]["pid"] == holder.get_backend_pid()
    finally:
        holder.close()
    assert not table_exists(pg_db, "x")
    assert migrate(pg_db, tree)["changed"]


def test_eight_parallel_runs_apply_once(pg_db, tree):
    for i in range(1, 6):
        tree.add("20250101_%04d" % i, "step_%d" % i,
                 "CREATE TABLE step_%d (id int);\nSELECT pg_sleep(0.05);\n" % i, "DROP TABLE step_%d;\n" % i)
    results, errors = [], []

    def worker():
        try:
            results.append(migrate(pg_db, tree, lock_wait=60))
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    appliers = [r for r in results if r["applied"]]
    assert len(appliers) == 1 and len(appliers[0]["applied"]) == 5
    assert all(r["current_version"] == "20250101_0005" for r in results)
    assert pg_db.scalar("SELECT count(*) FROM migrations_log") == 5


def test_kill_9_mid_transaction_leaves_nothing_and_next_run_proceeds(pg_db, tree, repo_root, tmp_path):
    tree.add("20250101_0001", "slow",
             "CREATE TABLE slow (id int);\nINSERT INTO slow VALUES (1);\n"
             "SELECT pg_sleep(CASE WHEN current_setting('sensa.test_sleep', true) = 'on' THEN 2 ELSE 0 END);\n")
    proc = spawn_victim(pg_db, tree, repo_root, tmp_path)
    deadline = time.time() + 20
    while time.time() < deadline:
        if pg_db.scalar("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'victim' "
                        "AND query LIKE '%%pg_sleep%%' AND state = 'active'"):
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("victim never reached the slow statement")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    result = migrate(pg_db, tree, lock_wait=30)  # waits for the orphaned statement to end, then applies
    assert [a["version"] for a in result["applied"]] == ["20250101_0001"]
    assert pg_db.scalar("SELECT count(*) FROM slow") == 1  # exactly one insert: the killed one left nothing
    assert [r[2] for r in log_rows(pg_db)] == ["success"]


def test_crlf_and_bom_variants_are_not_drift(pg_db, tree):
    text = "CREATE TABLE nl (id int);\nCOMMENT ON TABLE nl IS 'x';\n"
    tree.add("20250101_0001", "nl", text)
    migrate(pg_db, tree)
    tree.add("20250101_0001", "nl", b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    result = migrate(pg_db, tree)
    assert not result["changed"] and result["drift"] == []


def test_drift_fails_then_fix_file_is_run_once_and_recorded(pg_db, tree):
    tree.add("20250101_0001", "t", "CREATE TABLE t (id int);\n")
    tree.add("20250101_0002", "u", "CREATE TABLE u (id int);\n")
    migrate(pg_db, tree, target="20250101_0001")
    tree.add("20250101_0001", "t", "CREATE TABLE t (id int, note text);\n")
    with pytest.raises(MigrationError) as err:
        migrate(pg_db, tree)
    message = str(err.value)
    assert "20250101_0001_t.sql changed after it was applied" in message
    assert "fixes/20250101_0001_apply_fix.sql" in message and "state=repaired" in message
    assert not table_exists(pg_db, "u")
    tree.write("fixes/20250101_0001_apply_fix.sql", "ALTER TABLE t ADD COLUMN IF NOT EXISTS note text;\n")
    result = migrate(pg_db, tree)
    assert [f["version"] for f in result["fixed"]] == ["20250101_0001"]
    assert [a["version"] for a in result["applied"]] == ["20250101_0002"]
    assert pg_db.scalar("SELECT count(*) FROM information_schema.columns WHERE table_name = 't' AND column_name = 'note'") == 1
    again = migrate(pg_db, tree)
    assert not again["changed"] and again["fixed"] == []
    kinds = [r[1] for r in log_rows(pg_db)]
    assert kinds == ["migrate", "fix", "migrate"]


def test_repair_accepts_drift_audited(pg_db, tree):
    tree.add("20250101_0001", "t", "CREATE TABLE t (id int);\n")
    migrate(pg_db, tree)
    tree.add("20250101_0001", "t", "-- reformatted\nCREATE TABLE t (id int);\n")
    result = migrate(pg_db, tree, action="repaired")
    assert result["changed"] and result["repaired"][0]["version"] == "20250101_0001"
    row = pg_db.query("SELECT kind, description FROM migrations_log ORDER BY id DESC LIMIT 1")[0]
    assert row[0] == "repair" and "accepted" in row[1]
    assert not migrate(pg_db, tree)["changed"]


def test_applied_file_removed_is_an_error(pg_db, tree):
    tree.add("20250101_0001", "t", "CREATE TABLE t (id int);\n")
    migrate(pg_db, tree)
    tree.remove("20250101_0001_t.sql")
    tree.remove("20250101_0001_rollback.sql")
    tree.add("20250101_0002", "u", "CREATE TABLE u (id int);\n")
    with pytest.raises(MigrationError, match="file is gone"):
        migrate(pg_db, tree)


def test_out_of_order_needs_permission(pg_db, tree):
    tree.add("20250101_0002", "late", "CREATE TABLE late (id int);\n")
    migrate(pg_db, tree)
    tree.add("20250101_0001", "early", "CREATE TABLE early (id int);\n")
    with pytest.raises(MigrationError, match="out_of_order: true"):
        migrate(pg_db, tree)
    assert migrate(pg_db, tree, out_of_order=True)["applied"][0]["version"] == "20250101_0001"


def test_rollback_to_target_and_reapply(pg_db, tree):
    for i, name in enumerate(["a", "b", "c"], start=1):
        tree.add("20250101_%04d" % i, name, "CREATE TABLE %s (id int);\n" % name, "DROP TABLE %s;\n" % name)
    migrate(pg_db, tree)
    result = migrate(pg_db, tree, action="rolled_back", target="20250101_0001")
    assert [r["version"] for r in result["rolled_back"]] == ["20250101_0003", "20250101_0002"]
    assert result["current_version"] == "20250101_0001"
    assert table_exists(pg_db, "a") and not table_exists(pg_db, "b") and not table_exists(pg_db, "c")
    assert not migrate(pg_db, tree, action="rolled_back", target="20250101_0001")["changed"]
    result = migrate(pg_db, tree)
    assert [a["version"] for a in result["applied"]] == ["20250101_0002", "20250101_0003"]


def test_baseline_records_without_running(pg_db, tree):
    pg_db.psql("CREATE TABLE legacy (id int)")
    tree.add("20250101_0001", "legacy", "CREATE TABLE legacy (id int);\n")
    tree.add("20250101_0002", "new", "CREATE TABLE new_t (id int);\n")
    result = migrate(pg_db, tree, action="baseline", target="20250101_0001")
    assert result["baselined"] == ["20250101_0001"] and result["applied"] == []
    result = migrate(pg_db, tree)
    assert [a["version"] for a in result["applied"]] == ["20250101_0002"]
    assert [r[1] for r in log_rows(pg_db)] == ["baseline", "migrate"]


def test_status_and_check_mode_change_nothing(pg_db, tree):
    tree.add("20250101_0001", "t", "CREATE TABLE t (id int);\n")
    status = runner_for(pg_db, tree).run("status")
    assert status["pending"] == ["20250101_0001"] and not status["changed"]
    check = runner_for(pg_db, tree, check_mode=True).run("applied")
    assert check["would_change"] and check["pending"] == ["20250101_0001"]
    assert not table_exists(pg_db, "migrations_log") and not table_exists(pg_db, "t")


def test_session_role_owns_created_objects(pg_db, tree):
    pg_db.psql("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mig_owner_test') THEN "
               "CREATE ROLE mig_owner_test NOLOGIN; END IF; END $$;"
               "GRANT CREATE ON SCHEMA public TO mig_owner_test")
    tree.add("20250101_0001", "owned", "CREATE TABLE owned (id int);\n")
    migrate(pg_db, tree, session_role="mig_owner_test")
    assert pg_db.scalar("SELECT tableowner FROM pg_tables WHERE tablename = 'owned'") == "mig_owner_test"
    assert pg_db.scalar("SELECT tableowner FROM pg_tables WHERE tablename = 'migrations_log'") == "mig_owner_test"
    pg_db.psql("DROP OWNED BY mig_owner_test")


def test_session_settings_do_not_leak_between_files(pg_db, tree):
    tree.add("20250101_0001", "pgdump_style", "SELECT pg_catalog.set_config('search_path', '', false);\n"
             "CREATE TABLE public.a (id int);\n")
    tree.add("20250101_0002", "plain", "CREATE TABLE b (id int);\n")  # needs the default search_path again
    migrate(pg_db, tree)
    assert table_exists(pg_db, "public.b")


def test_dollar_quotes_with_nested_tags_and_semicolons(pg_db, tree):
    tree.add("20250101_0001", "func", textwrap.dedent("""
        CREATE FUNCTION tricky() RETURNS text LANGUAGE plpgsql AS $body$
        DECLARE s text := $$semi;colon 'quote' $$;
        BEGIN
          EXECUTE $q$SELECT 1; $q$;
          RETURN s || E'\\';' || $x$$$ inside$x$;
        END;
        $body$;
        CREATE FUNCTION std(a int) RETURNS int LANGUAGE sql
        BEGIN ATOMIC
          SELECT a + 1;
        END;
    """))
    migrate(pg_db, tree)
    assert pg_db.scalar("SELECT tricky()") == "semi;colon 'quote' ';$$ inside"
    assert pg_db.scalar("SELECT std(1)") == 2


def test_statement_ending_in_a_line_comment_runs_in_the_batched_file(pg_db, tree):
    tree.add("20250101_0001", "comments",
             "CREATE TABLE c1 (id int) -- the semicolon is on the next line\n;\n"
             "CREATE TABLE c2 (id int); -- and a comment after the last one\n")
    migrate(pg_db, tree)
    assert table_exists(pg_db, "c1") and table_exists(pg_db, "c2")
