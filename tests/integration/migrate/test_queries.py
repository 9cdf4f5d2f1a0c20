"""pg_migrate's `queries`: the statements of the files it ran (or would run), bounded, no secret."""

import json
import os

from support.ansible_run import run_playbook

PLAYBOOK = os.path.join(os.path.dirname(__file__), "playbooks", "pg_migrate.yml")


def migrate(db, tree, tmp_path, check=False, **options):
    result_file = str(tmp_path / "result.json")
    if os.path.exists(result_file):
        os.unlink(result_file)
    options.setdefault("path", tree.path)
    run = run_playbook(PLAYBOOK, inventory="localhost,", check=check,
                       extra_vars={"login": db.login, "migrate": options, "result_file": result_file})
    assert run.returncode == 0, run
    with open(result_file) as handle:
        return run, json.load(handle)


def test_queries_list_each_file_and_its_statements(pg_db, tree, tmp_path):
    tree.add("20250101_0001", "t", "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n", "DROP TABLE t;\n")
    tree.add("20250101_0002", "u", "-- a comment\nCREATE TABLE u (id int);\n", "DROP TABLE u;\n")
    expected = ["-- 20250101_0001_t.sql", "CREATE TABLE t (id int)", "INSERT INTO t VALUES (1)",
                "-- 20250101_0002_u.sql", "CREATE TABLE u (id int)"]

    _run, check = migrate(pg_db, tree, tmp_path, check=True)
    assert [q.replace("-- a comment\n", "") for q in check["queries"]] == expected

    _run, applied = migrate(pg_db, tree, tmp_path)
    assert [q.replace("-- a comment\n", "") for q in applied["queries"]] == expected
    assert migrate(pg_db, tree, tmp_path)[1]["queries"] == []  # nothing ran
    assert migrate(pg_db, tree, tmp_path, state="status")[1]["queries"] == []

    _run, rolled = migrate(pg_db, tree, tmp_path, state="rolled_back", target="20250101_0001")
    assert rolled["queries"] == ["-- 20250101_0002_rollback.sql", "DROP TABLE u"]


def test_password_literals_are_masked(pg_db, tree, tmp_path):
    secret = "Rol3-Passw0rd-in-a-migration"
    tree.add("20250101_0001", "role", "CREATE ROLE q_login_%s LOGIN PASSWORD '%s';\n" % (pg_db.name, secret),
             "DROP ROLE q_login_%s;\n" % pg_db.name)
    try:
        run, result = migrate(pg_db, tree, tmp_path)
        assert result["queries"][1] == "CREATE ROLE q_login_%s LOGIN PASSWORD '********'" % pg_db.name
        assert secret not in json.dumps(result) and secret not in run.output
    finally:
        pg_db.psql("DROP ROLE IF EXISTS q_login_%s" % pg_db.name)


def test_queries_are_bounded(pg_db, tree, tmp_path):
    big = "SELECT '%s' AS filler;\n" % ("x" * 70000)
    tree.add("20250101_0001", "small", "CREATE TABLE small (id int);\n", "DROP TABLE small;\n")
    tree.add("20250101_0002", "big", big + "SELECT 2;\n", "SELECT 1;\n")
    _run, result = migrate(pg_db, tree, tmp_path)
    assert result["queries"] == [
        "-- 20250101_0001_small.sql", "CREATE TABLE small (id int)",
        "-- 20250101_0002_big.sql: 2 statement(s), text not shown (queries is capped at 65536 characters)"]
