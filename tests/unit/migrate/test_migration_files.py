"""Naming rules, checksums, headers and planning: every rule without a server."""

import os

import pytest

from ansible_collections.sensa.infra.plugins.module_utils.migration_files import (
    AppliedVersion,
    MigrationError,
    checksum,
    discover,
    make_plan,
    parse_headers,
)


def write(directory, name, text="SELECT 1;\n"):
    path = os.path.join(str(directory), name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(text.encode() if isinstance(text, str) else text)
    return path


@pytest.fixture
def sql_root(tmp_path):
    """files/sql: migrations/, rollbacks/ and fixes/ side by side."""
    for version, name in (("20250101_0001", "one"), ("20250101_0002", "two"), ("20250102_0001", "three")):
        write(tmp_path, "migrations/%s_%s.sql" % (version, name), "CREATE TABLE %s (id int);\n" % name)
        write(tmp_path, "rollbacks/%s_rollback.sql" % version, "DROP TABLE %s;\n" % name)
    return tmp_path


@pytest.fixture
def mig_dir(sql_root):
    return sql_root / "migrations"


def applied(*versions, checksums=None, kind="migrate"):
    checksums = checksums or {}
    return {v: AppliedVersion(v, v + ".sql", kind, checksums.get(v)) for v in versions}


def test_checksum_ignores_bom_and_crlf():
    text = b"CREATE TABLE a (id int);\nSELECT 1;\n"
    assert checksum(text) == checksum(text.replace(b"\n", b"\r\n"))
    assert checksum(text) == checksum(b"\xef\xbb\xbf" + text.replace(b"\n", b"\r\n"))
    assert checksum(text).startswith("sha256:v1:") and len(checksum(text)) == len("sha256:v1:") + 64
    assert checksum(text) != checksum(text + b" ")


def test_discover_orders_and_pairs(mig_dir):
    migrations = discover(str(mig_dir))
    assert [m.version for m in migrations] == ["20250101_0001", "20250101_0002", "20250102_0001"]
    assert migrations[0].description == "one" and migrations[0].down.filename == "20250101_0001_rollback.sql"


@pytest.mark.parametrize(
    "name, fragment",
    [
        ("2025011_0001_short.sql", "malformed name"),
        ("20250101_0003_Upper.sql", "malformed name"),
        ("20250101_0003-dash.sql", "malformed name"),
        ("notes.txt", "not a .sql file"),
        ("20250101_0001_again.sql", "duplicate version 20250101_0001"),
        ("../rollbacks/20250109_0001_rollback.sql", "rollback with no migration"),
        ("../rollbacks/bad.sql", "malformed name"),
        ("20250109_0001_lonely.sql", "migration with no rollback"),
        ("../fixes/20250109_0009_apply_fix.sql", "which has no migration"),
        ("../fixes/bad.sql", "malformed name"),
    ],
)
def test_discover_rejects_bad_layouts(mig_dir, name, fragment):
    write(mig_dir, name)
    with pytest.raises(MigrationError) as err:
        discover(str(mig_dir))
    assert fragment in str(err.value)


def test_discover_reports_every_problem_at_once(mig_dir):
    write(mig_dir, "bad.sql")
    write(mig_dir, "20250109_0001_lonely.sql")
    with pytest.raises(MigrationError) as err:
        discover(str(mig_dir))
    assert "bad.sql" in str(err.value) and "lonely" in str(err.value)


@pytest.mark.parametrize(
    "name",
    ["20250101_0001_rollback.sql", "20250101_0002_apply_fix.sql", "fixes/20250101_0001_apply_fix.sql",
     "rollbacks/20250101_0001_rollback.sql"],
)
def test_discover_refuses_rollbacks_and_fixes_in_the_migrations_directory(mig_dir, name):
    """Defect 10: a '*.sql' loop over the migrations directory must never reach a rollback."""
    write(mig_dir, name)
    with pytest.raises(MigrationError) as err:
        discover(str(mig_dir))
    message = str(err.value)
    assert "holds rollback or fix files" in message and name.split("/")[0] in message
    assert os.path.join(os.path.dirname(str(mig_dir)), "rollbacks") in message


def test_discover_rollbacks_and_fixes_paths_are_options(tmp_path):
    write(tmp_path, "up/20250101_0001_one.sql", "CREATE TABLE one (id int);\n")
    write(tmp_path, "elsewhere/down/20250101_0001_rollback.sql", "DROP TABLE one;\n")
    write(tmp_path, "elsewhere/fix/20250101_0001_apply_fix.sql", "SELECT 1;\n")
    with pytest.raises(MigrationError, match="migration with no rollback"):
        discover(str(tmp_path / "up"))
    (migration,) = discover(str(tmp_path / "up"), str(tmp_path / "elsewhere" / "down"), str(tmp_path / "elsewhere" / "fix"))
    assert migration.down.filename == "20250101_0001_rollback.sql" and migration.fix.filename == "20250101_0001_apply_fix.sql"


def test_directory_readmes_are_allowed(sql_root, mig_dir):
    write(sql_root, "rollbacks/README.md", "# Rollbacks\n")
    write(sql_root, "fixes/README.md", "# Fixes\n")
    assert len(discover(str(mig_dir))) == 3


def test_missing_directory():
    with pytest.raises(MigrationError, match="does not exist"):
        discover("/nonexistent/migrations")


def test_headers():
    text = "-- sensa:no-transaction\n-- sensa:lock_timeout=10s\n--sensa:statement_timeout: 30min\n-- note\nSELECT 1;\n-- sensa:ignored-after-sql\n"
    assert parse_headers(text, "f.sql") == {"no-transaction": True, "lock_timeout": "10s", "statement_timeout": "30min"}
    with pytest.raises(MigrationError, match="unknown header"):
        parse_headers("-- sensa:no-transactions\n", "f.sql")
    with pytest.raises(MigrationError, match="needs a duration"):
        parse_headers("-- sensa:lock_timeout=soon\n", "f.sql")


def test_plan_applies_pending_in_order(mig_dir):
    migrations = discover(str(mig_dir))
    plan = make_plan(migrations, {})
    assert [m.version for m in plan.apply] == ["20250101_0001", "20250101_0002", "20250102_0001"]
    assert plan.errors == []


def test_plan_up_to_target(mig_dir):
    migrations = discover(str(mig_dir))
    plan = make_plan(migrations, {}, target="20250101_0002")
    assert [m.version for m in plan.apply] == ["20250101_0001", "20250101_0002"]
    with pytest.raises(MigrationError, match="not a migration version"):
        make_plan(migrations, {}, target="20990101_0001")


def test_plan_nothing_to_do_when_all_applied(mig_dir):
    migrations = discover(str(mig_dir))
    state = applied(*[m.version for m in migrations], checksums={m.version: m.checksum for m in migrations})
    plan = make_plan(migrations, state)
    assert plan.apply == [] and plan.errors == [] and plan.current == "20250102_0001"


def test_plan_drift_is_an_error_naming_both_checksums(mig_dir):
    migrations = discover(str(mig_dir))
    state = applied("20250101_0001", checksums={"20250101_0001": "sha256:v1:" + "0" * 64})
    plan = make_plan(migrations, state)
    assert len(plan.errors) == 1
    assert "sha256:v1:" + "0" * 64 in plan.errors[0] and migrations[0].checksum in plan.errors[0]
    assert "fixes/20250101_0001_apply_fix.sql" in plan.errors[0]


def test_plan_drift_with_fix_file_plans_the_fix(mig_dir):
    write(mig_dir, "../fixes/20250101_0001_apply_fix.sql", "ALTER TABLE one ADD COLUMN x int;\n")
    migrations = discover(str(mig_dir))
    state = applied("20250101_0001", checksums={"20250101_0001": "sha256:v1:" + "0" * 64})
    plan = make_plan(migrations, state)
    assert plan.errors == [] and [m.version for m, _old in plan.fixes] == ["20250101_0001"]


def test_plan_repair_accepts_drift(mig_dir):
    migrations = discover(str(mig_dir))
    state = applied("20250101_0001", checksums={"20250101_0001": "sha256:v1:" + "0" * 64})
    plan = make_plan(migrations, state, action="repaired")
    assert plan.errors == [] and len(plan.repairs) == 1


def test_plan_missing_file_is_an_error(mig_dir):
    migrations = discover(str(mig_dir))
    state = applied("20250101_0001", "20241231_0001",
                    checksums={"20250101_0001": migrations[0].checksum})
    plan = make_plan(migrations, state)
    assert any("20241231_0001" in e and "file is gone" in e for e in plan.errors)


def test_plan_out_of_order(mig_dir):
    migrations = discover(str(mig_dir))
    state = applied("20250101_0001", "20250102_0001",
                    checksums={m.version: m.checksum for m in migrations})
    plan = make_plan(migrations, state)
    assert any("20250101_0002" in e and "out_of_order" in e for e in plan.errors)
    plan = make_plan(migrations, state, out_of_order=True)
    assert plan.errors == [] and [m.version for m in plan.apply] == ["20250101_0002"]


def test_plan_rollback_newest_first_to_target(mig_dir):
    migrations = discover(str(mig_dir))
    state = applied(*[m.version for m in migrations], checksums={m.version: m.checksum for m in migrations})
    plan = make_plan(migrations, state, action="rolled_back", target="20250101_0001")
    assert [m.version for m in plan.rollback] == ["20250102_0001", "20250101_0002"]
    plan = make_plan(migrations, state, action="rolled_back", target="0")
    assert [m.version for m in plan.rollback] == ["20250102_0001", "20250101_0002", "20250101_0001"]
    with pytest.raises(MigrationError, match="needs target"):
        make_plan(migrations, state, action="rolled_back")


def test_plan_rolled_back_versions_are_pending_again(mig_dir):
    migrations = discover(str(mig_dir))
    state = applied(*[m.version for m in migrations], checksums={m.version: m.checksum for m in migrations})
    state["20250102_0001"] = AppliedVersion("20250102_0001", "x", "rollback", "sha256:v1:" + "1" * 64)
    plan = make_plan(migrations, state)
    assert [m.version for m in plan.apply] == ["20250102_0001"] and plan.errors == []


def test_plan_baseline(mig_dir):
    migrations = discover(str(mig_dir))
    plan = make_plan(migrations, {}, action="baseline", target="20250101_0002")
    assert [m.version for m in plan.baseline] == ["20250101_0001", "20250101_0002"]
    with pytest.raises(MigrationError, match="needs target"):
        make_plan(migrations, {}, action="baseline")


def test_plan_rollback_by_steps_takes_the_newest_applied(mig_dir):
    migrations = discover(str(mig_dir))
    state = applied("20250101_0001", "20250101_0002", "20250102_0001")
    plan = make_plan(migrations, state, action="rolled_back", steps=2)
    assert [m.version for m in plan.rollback] == ["20250102_0001", "20250101_0002"]
    assert [m.version for m in make_plan(migrations, state, action="rolled_back", steps=9).rollback] == [
        "20250102_0001", "20250101_0002", "20250101_0001"]
    with pytest.raises(MigrationError, match="not both"):
        make_plan(migrations, state, action="rolled_back", target="20250101_0001", steps=1)
    with pytest.raises(MigrationError, match="1 or more"):
        make_plan(migrations, state, action="rolled_back", steps=0)
