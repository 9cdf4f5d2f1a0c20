"""Every table x SELECT/INSERT/UPDATE/DELETE x {owner, another user, no context, garbage context}.

Tables, keys and columns come from the catalog, and a user's rows from the foreign-key closure
of their users row (security_helpers.rows_of_user), so a table added later is attacked without
anyone listing it: if the application can reach it without forced row-level security, the
catalog test fails, and if its rows leak, the matrix does.
"""

import json

import pytest
from security_helpers import (
    ACTORS,
    actor_session,
    columns,
    expect_refused,
    new_id,
    pk_predicate,
    primary_key,
    rows_of_user,
    tables,
    unlisted_user_tables,
    unprotected_tables,
    user_data_list,
)

COMMANDS = ("SELECT", "INSERT", "UPDATE", "DELETE")
RLS_REFUSAL = "row-level security"


@pytest.fixture(scope="module")
def catalog(deployed):
    names = tables(deployed)
    return {
        "tables": names,
        "listed": user_data_list(deployed),
        "pk": {t: primary_key(deployed, t) for t in names},
        "columns": {t: columns(deployed, t) for t in names},
        "rows_a": rows_of_user(deployed, deployed.world.users["a"]),
    }


def test_every_table_the_application_can_reach_has_forced_rls(deployed, catalog):
    """The catalog side: RLS enabled and forced, or no privilege at all for the application login."""
    assert unprotected_tables(deployed) == []
    assert unlisted_user_tables(deployed) == []
    assert len(catalog["rows_a"]) >= 12, "the seed should give user a rows in most tables: %s" % catalog["rows_a"]


def _allowed(catalog, table, command):
    privileges, ownership = catalog["listed"].get(table, ([], "system"))
    return command in privileges and ownership != "system"


def _updatable_column(catalog, table):
    return next(name for name, _type, generated in catalog["columns"][table] if not generated)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("command", COMMANDS)
def test_matrix(deployed, catalog, command, actor):
    failures = []
    checks = 0
    for table in catalog["tables"]:
        rows = catalog["rows_a"].get(table, [])
        pk = catalog["pk"][table]
        owner_may = actor == "owner" and _allowed(catalog, table, command)
        with actor_session(deployed, deployed.world, actor) as cur:
            checks += 1
            if command == "SELECT":
                if rows:
                    where, param = pk_predicate(pk, rows)
                    refused, _n, state = expect_refused(cur, "SELECT count(*) FROM public.%s WHERE %s" % (table, where),
                                                        (param,))
                    seen = None if refused else expect_refused.rows[0][0]
                else:
                    refused, _n, state = expect_refused(cur, "SELECT count(*) FROM public.%s" % table)
                    seen = None if refused else expect_refused.rows[0][0]
                if owner_may and seen != len(rows):
                    failures.append("%s: owner sees %s of their %d rows (%s)" % (table, seen, len(rows), state))
                if not owner_may and seen:
                    failures.append("%s: %s sees %d of user a's rows" % (table, actor, seen))
            elif command in ("UPDATE", "DELETE"):
                if not rows:
                    checks -= 1
                    continue
                where, param = pk_predicate(pk, rows)
                col = _updatable_column(catalog, table)
                sql = ("UPDATE public.%s SET %s = %s WHERE %s" % (table, col, col, where) if command == "UPDATE"
                       else "DELETE FROM public.%s WHERE %s" % (table, where))
                refused, count, state = expect_refused(cur, sql, (param,))
                if owner_may and (refused or count != len(rows)):
                    failures.append("%s: owner %s %s of %d rows (%s)" % (table, command, count, len(rows), state))
                if not owner_may and not refused and count:
                    failures.append("%s: %s could %s %d of user a's rows" % (table, actor, command, count))
            else:  # INSERT: a copy of each of a's rows under a new key, values given literally
                if not rows:
                    checks -= 1
                    continue
                cols = [name for name, _type, generated in catalog["columns"][table] if not generated]
                where, param = pk_predicate(pk, rows[:1])
                record = deployed.query("SELECT row_to_json(t) FROM public.%s AS t WHERE %s" % (table, where), (param,))[0][0]
                if len(pk) == 1 and {n: t for n, t, _g in catalog["columns"][table]}[pk[0]] == "uuid":
                    record[pk[0]] = new_id()
                refused, count, state = expect_refused(
                    cur, "INSERT INTO public.%s (%s) SELECT %s FROM json_populate_record(NULL::public.%s, %%s)"
                    % (table, ", ".join(cols), ", ".join(cols), table), (json.dumps(record),))
                message = ""
                if not owner_may and not refused:
                    failures.append("%s: %s inserted a row linked to user a's data" % (table, actor))
                if not owner_may and refused and state != "42501":
                    failures.append("%s: %s's insert failed for another reason first (%s)" % (table, actor, state))
                if owner_may and refused and state == "42501":
                    # The owner may insert here; only a system-only column may refuse the copy.
                    cur.execute("SAVEPOINT why")
                    try:
                        cur.execute("INSERT INTO public.%s (%s) SELECT %s FROM json_populate_record(NULL::public.%s, %%s)"
                                    % (table, ", ".join(cols), ", ".join(cols), table), (json.dumps(record),))
                    except Exception as exc:  # noqa: BLE001 - the message is what matters
                        message = str(exc)
                    cur.execute("ROLLBACK TO SAVEPOINT why")
                    if RLS_REFUSAL in message:
                        failures.append("%s: the owner's insert is refused by row-level security" % table)
    assert failures == [], "\n".join(failures)
    # SELECT probes every table; the writes every table that holds rows of user a.
    assert checks == (len(catalog["tables"]) if command == "SELECT" else len(catalog["rows_a"]))
