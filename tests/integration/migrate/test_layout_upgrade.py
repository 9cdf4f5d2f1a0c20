"""A database migrated by 1.0.0 (rollbacks beside the migrations) upgrades with a plain re-run.

The rollbacks moved from files/sql/migrations to files/sql/rollbacks (issue 11, defect 10).
migrations_log identifies a file by its base name and its checksum, never by its directory,
so the rows 1.0.0 wrote stay valid. RELEASED_LOG is what 1.0.0 (commit c6d3c41) wrote on a
real server for: apply all, roll back to 0003, apply again.
"""

import os

from ansible_collections.sensa.infra.plugins.module_utils.migration_files import SqlFile, discover
from ansible_collections.sensa.infra.plugins.module_utils.migration_runner import Runner, RunOptions
from support.collection import REPO_ROOT

SQL = os.path.join(REPO_ROOT, "files", "sql")
LAST_RELEASED = "20250122_0005"

# (version, filename, description, kind, checksum)
RELEASED_LOG = [
    ("20250122_0001", "20250122_0001_initial_schema.sql", "initial_schema", "migrate",
     "57d1f54e6ee4720da2b13103507887426331313b40c3feb7b3975f17099898a6"),
    ("20250122_0002", "20250122_0002_indexes.sql", "indexes", "migrate",
     "2a67bdfcf110e320fbbaaf9a16c0b614324d6196241218434cb4f8ac990fdeed"),
    ("20250122_0003", "20250122_0003_triggers.sql", "triggers", "migrate",
     "45c2a071b0e80c7465274c7993c6583e198a29f90ece56b83c8cec57a51d11f1"),
    ("20250122_0004", "20250122_0004_row_level_security.sql", "row_level_security", "migrate",
     "79b03f56ffe11865da2d40c7ccd213f91d70bb5eff86de7338269753e721ff9b"),
    ("20250122_0005", "20250122_0005_utility_functions.sql", "utility_functions", "migrate",
     "07f5c35941a0c93f174f7a7375907743e773b08968f81bc53580f162166924ae"),
    ("20250122_0005", "20250122_0005_rollback.sql", "utility_functions", "rollback",
     "1fe9e321ff7ca0b94ae53da9bf22fbe1ef70f83f14ba814137474a813b3479ce"),
    ("20250122_0004", "20250122_0004_rollback.sql", "row_level_security", "rollback",
     "d640fe7d79e0399278c97236597a3afeb8506a7f2fbe693089d87483b6325a46"),
    ("20250122_0004", "20250122_0004_row_level_security.sql", "row_level_security", "migrate",
     "79b03f56ffe11865da2d40c7ccd213f91d70bb5eff86de7338269753e721ff9b"),
    ("20250122_0005", "20250122_0005_utility_functions.sql", "utility_functions", "migrate",
     "07f5c35941a0c93f174f7a7375907743e773b08968f81bc53580f162166924ae"),
]


def _runner(db):
    def connect(autocommit):
        import psycopg2

        conn = psycopg2.connect(application_name="sensa.pg_migrate.test", **db.conninfo())
        conn.autocommit = autocommit
        return conn

    return Runner(connect, discover(os.path.join(SQL, "migrations")), RunOptions(controller_user="pytest"))


def test_released_files_kept_their_bytes_in_the_new_layout():
    for _version, filename, _description, kind, digest in RELEASED_LOG:
        folder = "rollbacks" if kind == "rollback" else "migrations"
        assert SqlFile(os.path.join(SQL, folder, filename)).checksum == "sha256:v1:" + digest, filename


def test_a_1_0_0_database_reports_no_drift_and_changes_nothing(pg_db):
    _runner(pg_db).run("applied", LAST_RELEASED)  # the schema objects 1.0.0 created
    pg_db.psql("TRUNCATE migrations_log")
    for version, filename, description, kind, digest in RELEASED_LOG:
        pg_db.psql(
            "INSERT INTO migrations_log (run_id, version, filename, description, kind, checksum, status, "
            "finished_at, execution_ms, statements_done) VALUES (gen_random_uuid(), '%s', '%s', '%s', '%s', "
            "'sha256:v1:%s', 'success', clock_timestamp(), 1, 1)" % (version, filename, description, kind, digest)
        )
    rows_before = pg_db.scalar("SELECT count(*) FROM migrations_log")

    result = _runner(pg_db).run("applied", LAST_RELEASED)
    assert result["changed"] is False and result["applied"] == [] and result["drift"] == []
    assert all(v > LAST_RELEASED for v in result["pending"]) and result["warnings"] == []
    assert result["current_version"] == LAST_RELEASED
    assert pg_db.scalar("SELECT count(*) FROM migrations_log") == rows_before

    status = _runner(pg_db).run("status", LAST_RELEASED)
    assert status["drift"] == [] and status["pending"] == []
