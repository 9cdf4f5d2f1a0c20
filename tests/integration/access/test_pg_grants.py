"""sensa.infra.pg_grants against a real PostgreSQL: one transaction, changed only when the
effective privileges change, check mode, quoting, functions by argument types, missing roles."""

import json
import os
import uuid

import pytest

from support.ansible_run import run_playbook

PLAYBOOK = os.path.join(os.path.dirname(__file__), "playbooks", "pg_grants.yml")


def grant(db, tmp_path, privileges, check=False, **options):
    result_file = str(tmp_path / ("result-%s.json" % uuid.uuid4().hex[:6]))
    run = run_playbook(PLAYBOOK, inventory="localhost,", check=check, extra_vars={
        "login": db.login, "grants": dict(options, privileges=privileges), "result_file": result_file})
    assert run.returncode == 0, run
    with open(result_file) as handle:
        return json.load(handle)


@pytest.fixture
def objects(pg_db):
    """Two roles of this test's own (roles are cluster-wide), a mixed-case table, a sequence, a function."""
    suffix = uuid.uuid4().hex[:8]
    reader, writer = "g_reader_" + suffix, "G Writer " + suffix
    pg_db.psql('CREATE ROLE "%s" NOLOGIN; CREATE ROLE "%s" NOLOGIN;' % (reader, writer))
    pg_db.psql('CREATE TABLE public."Mixed Case" (id serial PRIMARY KEY, v text);'
               "CREATE FUNCTION public.add_one(n integer, label text DEFAULT '') RETURNS integer "
               "LANGUAGE sql AS 'SELECT n + 1';"
               "REVOKE EXECUTE ON FUNCTION public.add_one(integer, text) FROM PUBLIC;")
    try:
        yield pg_db, reader, writer
    finally:
        pg_db.psql('DROP TABLE public."Mixed Case"; DROP FUNCTION public.add_one(integer, text);')
        pg_db.psql('DROP OWNED BY "%s", "%s"; DROP ROLE "%s"; DROP ROLE "%s";' % (reader, writer, reader, writer))


def test_grant_set_applies_once_then_reports_no_change(objects, tmp_path):
    db, reader, writer = objects
    privileges = [
        {"type": "table", "schema": "public", "objs": ["Mixed Case"], "privs": ["SELECT", "INSERT", "DELETE"],
         "roles": [writer, reader]},
        # a later entry takes part of an earlier one back: only the net effect counts
        {"type": "table", "schema": "public", "objs": ["Mixed Case"], "privs": ["INSERT", "DELETE"],
         "roles": [reader], "state": "absent"},
        {"type": "sequence", "schema": "public", "objs": ["Mixed Case_id_seq"], "privs": ["USAGE"], "roles": [writer]},
        {"type": "function", "schema": "public", "objs": ["add_one(integer, text)"], "privs": ["EXECUTE"],
         "roles": [writer]},
        {"type": "default_privs", "schema": "public", "target_role": writer, "objs": ["TABLES"], "privs": ["SELECT"],
         "roles": [reader]},
        {"type": "table", "schema": "public", "objs": [], "privs": ["SELECT"], "roles": [reader]},  # empty: no-op
    ]
    preview = grant(db, tmp_path, privileges, check=True)
    assert preview["changed"] and not db.scalar(
        "SELECT has_table_privilege(%s, 'public.\"Mixed Case\"', 'INSERT')", (writer,))

    first = grant(db, tmp_path, privileges)
    assert first["changed"], first
    changes = {(c["action"], c["object"], c["grantee"], c["privilege"]) for c in first["changes"]}
    assert changes == {(c["action"], c["object"], c["grantee"], c["privilege"]) for c in preview["changes"]}
    assert ("granted", "table public.Mixed Case", reader, "SELECT") in changes
    assert not any(c[2] == reader and c[3] in ("INSERT", "DELETE") for c in changes), changes
    assert ("granted", "function public.add_one(integer, text)", writer, "EXECUTE") in changes
    assert len(first["queries"]) == 5, first["queries"]  # the empty entry ran nothing
    assert db.scalar("SELECT has_table_privilege(%s, 'public.\"Mixed Case\"', 'INSERT')", (writer,))
    assert not db.scalar("SELECT has_table_privilege(%s, 'public.\"Mixed Case\"', 'INSERT')", (reader,))
    assert db.scalar("SELECT has_function_privilege(%s, 'public.add_one(integer, text)', 'EXECUTE')", (writer,))
    assert db.scalar("SELECT count(*) FROM pg_default_acl WHERE defaclrole = %s::regrole", ('"%s"' % writer,)) == 1

    again = grant(db, tmp_path, privileges)
    assert not again["changed"] and again["changes"] == [], again


def test_revoke_from_public_on_the_database_counts_the_built_in_default(objects, tmp_path):
    db, _reader, _writer = objects
    privileges = [{"type": "database", "objs": [db.name], "privs": ["TEMPORARY"], "roles": ["PUBLIC"], "state": "absent"}]
    first = grant(db, tmp_path, privileges)
    assert [(c["action"], c["grantee"], c["privilege"]) for c in first["changes"]] == [("revoked", "PUBLIC", "TEMPORARY")]
    assert not grant(db, tmp_path, privileges)["changed"]


def test_missing_roles_fail_or_are_skipped(objects, tmp_path):
    db, reader, _writer = objects
    ghost = "g_ghost_" + uuid.uuid4().hex[:8]
    privileges = [{"type": "table", "schema": "public", "objs": ["Mixed Case"], "privs": ["SELECT"],
                   "roles": [ghost, reader]}]
    failed = grant(db, tmp_path, privileges)
    assert failed.get("failed") and ghost in failed["msg"] and "do not exist" in failed["msg"], failed
    assert not db.scalar("SELECT has_table_privilege(%s, 'public.\"Mixed Case\"', 'SELECT')", (reader,))
    skipped = grant(db, tmp_path, privileges, skip_missing_roles=True)
    assert skipped["changed"] and skipped["missing_roles"] == [ghost], skipped


def test_bad_input_is_named_and_nothing_is_applied(objects, tmp_path):
    db, reader, writer = objects
    privileges = [
        {"type": "table", "schema": "public", "objs": ["Mixed Case"], "privs": ["SELECT"], "roles": [reader]},
        {"type": "function", "schema": "public", "objs": ["add_one(text)"], "privs": ["EXECUTE"], "roles": [writer]},
    ]
    failed = grant(db, tmp_path, privileges)
    assert failed.get("failed") and "privileges[1]: no function public.add_one(text)" in failed["msg"], failed
    # one transaction: the first entry's grant was rolled back with the failure
    assert not db.scalar("SELECT has_table_privilege(%s, 'public.\"Mixed Case\"', 'SELECT')", (reader,))
    wrong = grant(db, tmp_path, [{"type": "table", "schema": "public", "objs": ["Mixed Case"],
                                  "privs": ["SELECT; DROP TABLE x"], "roles": [reader]}])
    assert wrong.get("failed") and "unknown privilege" in wrong["msg"], wrong
