"""Pure parts of plugins/module_utils/backup_restore.py: which expectations a restore is held
to, the backup set's file checks, and the report."""

import json
import os

import pytest

from support.collection import ensure_collection_link

ensure_collection_link()

from ansible_collections.sensa.infra.plugins.module_utils import backup_restore as br  # noqa: E402


def facts(users):
    return dict(schema_version="20250122_0005", applied_versions=["20250122_0005"], running_migrations=[],
                extensions={"vector": "0.8.0"}, row_counts={"users": users}, server_version_num=150014)


def physical_meta():
    return dict(format=1, method="physical", database="sensa", taken_at="2026-12-01T09:00:00Z", marks=[
        dict(name="base", time="2026-12-01T09:00:00Z", lsn="0/1", facts=facts(10)),
        dict(name="noon", time="2026-12-01T12:00:00Z", lsn="0/2", facts=facts(20)),
    ])


def test_a_time_target_is_held_to_the_latest_mark_at_or_before_it():
    expected, source = br.recovery_expectations(physical_meta(), target_time="2026-12-01T11:59:59Z")
    assert expected["row_counts"] == {"users": 10} and "mark base" in source
    expected, source = br.recovery_expectations(physical_meta(), target_time="2026-12-01T12:00:00+00:00")
    assert expected["row_counts"] == {"users": 20} and "mark noon" in source


def test_a_target_before_the_base_backup_or_an_unknown_mark_is_refused():
    with pytest.raises(br.BackupError, match="before the base backup's first consistent point"):
        br.recovery_expectations(physical_meta(), target_time="2026-12-01T08:59:59Z")
    with pytest.raises(br.BackupError, match="has no mark 'tea'.*marks: base, noon"):
        br.recovery_expectations(physical_meta(), target_name="tea")


def test_a_half_migrated_source_is_refused_with_the_version():
    half = facts(1)
    half["running_migrations"] = [dict(version="20250122_0006", filename="x.sql", started_at="now")]
    with pytest.raises(br.BackupError, match="half-migrated.*20250122_0006"):
        br.refuse_half_migrated(half, "sensa")
    br.refuse_half_migrated(facts(1), "sensa")


def _logical_set(tmp_path):
    dump = tmp_path / "db.dump"
    dump.write_bytes(b"PGDMP" + b"x" * 100)
    (tmp_path / "roles.sql").write_text("-- roles\n")
    meta = dict(format=1, method="logical", database="sensa", taken_at="2026-12-01T09:00:00Z", source=facts(1),
                files={"db.dump": dict(sha256=br.sha256_file(str(dump)), bytes=105),
                       "roles.sql": dict(sha256=br.sha256_file(str(tmp_path / "roles.sql")), bytes=9)})
    br.write_metadata(str(tmp_path), meta)
    return meta


def test_missing_truncated_and_corrupted_files_are_named_before_any_tool_runs(tmp_path):
    meta = _logical_set(tmp_path)
    dump = tmp_path / "db.dump"
    dump.write_bytes(b"PGDMP" + b"x" * 50)
    with pytest.raises(br.BackupError, match="db.dump is truncated or corrupted: 55 bytes, the backup recorded 105"):
        br.check_files(str(tmp_path), meta, "/nonexistent")
    dump.write_bytes(b"PGDMP" + b"y" * 100)
    with pytest.raises(br.BackupError, match="db.dump is corrupted: sha256"):
        br.check_files(str(tmp_path), meta, "/nonexistent")
    dump.write_bytes(b"PGDMP" + b"x" * 100)
    os.unlink(str(tmp_path / "roles.sql"))
    with pytest.raises(br.BackupError, match="roles.sql is missing"):
        br.check_files(str(tmp_path), meta, "/nonexistent")


def test_not_a_backup_set_and_picking_the_newest(tmp_path):
    with pytest.raises(br.BackupError, match="is not a backup set"):
        br.read_metadata(str(tmp_path))
    with pytest.raises(br.BackupError, match="no backup set under"):
        br.pick_latest(str(tmp_path))
    for name, when in (("b", "2026-12-01T10:00:00Z"), ("a", "2026-12-02T10:00:00Z")):
        os.makedirs(str(tmp_path / name))
        br.write_metadata(str(tmp_path / name), dict(format=1, method="logical", taken_at=when))
    (tmp_path / "junk").mkdir()
    assert br.pick_latest(str(tmp_path)) == str(tmp_path / "a")


def test_report_and_summary(tmp_path):
    checks = [dict(name="schema_version", passed=True, detail="equal"), dict(name="row_counts", passed=False, detail="differs")]
    report = br.build_report(dict(taken_at="2026-12-01T09:00:00Z", database="sensa"), "/b", checks, 1.234, "logical",
                             "snapshot", started_at="2026-12-01T10:30:00Z")
    assert report["passed"] is False and report["backup_age_seconds"] == 5400 and report["restore_seconds"] == 1.23
    assert report["summary"][0].startswith("restore drill FAILED: logical backup of sensa") and "age 90 min" in report["summary"][0]
    assert "row_counts" in report["summary"][2] and "FAIL" in report["summary"][2]
    br.write_report(str(tmp_path / "r" / "report.json"), report)
    assert json.load(open(str(tmp_path / "r" / "report.json")))["checks"] == checks
    assert br.build_report(dict(taken_at="2026-12-01T09:00:00Z"), "", [], 0, "logical", "")["passed"] is False


def test_connection_options_reach_the_tools_only_through_the_environment():
    env = br.libpq_env(dict(host="/s", port=5432, user="u", password="pw", dbname="d", application_name="a"))
    assert (env["PGHOST"], env["PGPORT"], env["PGUSER"], env["PGPASSWORD"], env["PGDATABASE"], env["PGAPPNAME"]) == (
        "/s", "5432", "u", "pw", "d", "a")
    assert "PGPASSWORD" not in br.libpq_env(dict(host="/s"))
    # the client certificate options reach pg_dump too
    env = br.libpq_env(dict(host="db", sslmode="verify-full", sslcert="/c.pem", sslkey="/k.pem"))
    assert (env["PGSSLMODE"], env["PGSSLCERT"], env["PGSSLKEY"]) == ("verify-full", "/c.pem", "/k.pem")


def test_two_reads_of_a_live_source_bound_the_counts_and_keep_only_unchanged_checksums():
    before = dict(facts(10), row_counts={"users": 10, "courses": 4}, checksums={"users": "a", "courses": "c"})
    after = dict(facts(12), row_counts={"users": 12, "courses": 4}, checksums={"users": "b", "courses": "c"})
    merged, bounds = br.bracket(before, after)
    assert bounds == {"users": (10, 12), "courses": (4, 4)}
    assert merged["checksums"] == {"courses": "c"} and merged["schema_version"] == "20250122_0005"
    # Fewer rows after (deletes) bound the count from the other side.
    assert br.bracket(after, before)[1]["users"] == (10, 12)
    assert br.bracket(before, None) == (before, None)


def test_a_migration_between_the_two_reads_is_refused():
    after = dict(facts(10), schema_version="20250122_0006", applied_versions=["20250122_0005", "20250122_0006"])
    with pytest.raises(br.BackupError, match="schema changed between the drill's two reads"):
        br.bracket(facts(10), after)
