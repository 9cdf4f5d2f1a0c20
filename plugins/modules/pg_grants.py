#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_grants
short_description: Apply a whole set of GRANTs, REVOKEs and default privileges in one transaction
version_added: 1.1.0
description:
  - Applies every entry of O(privileges) (C(GRANT) or C(REVOKE) on schemas, tables, sequences, functions and
    databases, and C(ALTER DEFAULT PRIVILEGES)) in one transaction, in the order given, over one connection.
  - One task instead of a loop of M(community.postgresql.postgresql_privs) calls; the pg_access role applies its
    whole grant set with it.
  - Idempotent by comparison, not by guessing. The module reads the effective privileges (C(aclexplode) of every
    ACL, defaults included) of the objects it touches before and after applying the statements; it reports
    C(changed) only when they differ, and returns exactly which privileges were granted or revoked.
  - Identifiers are quoted by the module; a function is named by its argument types and resolved by the server
    (C(to_regprocedure)), so no part of O(privileges) is pasted into SQL as text.
options:
  privileges:
    description:
      - The statements to apply, in order. A later entry may undo part of an earlier one (for example a grant of
        every DML privilege followed by a revoke of C(DELETE) on one table); only the net effect is reported.
    type: list
    elements: dict
    required: true
    suboptions:
      type:
        description:
          - The kind of object. C(default_privs) runs C(ALTER DEFAULT PRIVILEGES FOR ROLE O(privileges[].target_role)
            IN SCHEMA O(privileges[].schema)); its O(privileges[].objs) are C(TABLES), C(SEQUENCES), C(FUNCTIONS) or
            C(TYPES).
        type: str
        required: true
        choices: [ schema, table, sequence, function, database, default_privs ]
      schema:
        description:
          - The schema of the objects (C(table), C(sequence), C(function), C(default_privs)).
        type: str
      objs:
        description:
          - The objects. Functions as C(name(argument types)), for example C(set_current_user_id(uuid, boolean)).
          - An empty list makes the entry a no-op, so a role can pass a computed list that may be empty.
        type: list
        elements: str
        required: true
      privs:
        description:
          - The privileges, for example C(SELECT), C(USAGE), C(EXECUTE), C(CONNECT), or C(ALL).
        type: list
        elements: str
        required: true
      roles:
        description:
          - The grantees. C(PUBLIC) means every role.
        type: list
        elements: str
        required: true
      state:
        description:
          - C(present) grants, C(absent) revokes.
        type: str
        choices: [ present, absent ]
        default: present
      target_role:
        description:
          - For C(default_privs), the role whose future objects get the privileges.
        type: str
  skip_missing_roles:
    description:
      - Leave out grantees that do not exist (and report them in RV(missing_roles)) instead of failing. Meant for
        check mode, where the task that creates the roles did not run.
    type: bool
    default: false
extends_documentation_fragment:
  - sensa.infra.postgres
attributes:
  check_mode:
    support: full
    description: The statements run in a transaction that is rolled back; the result says what they would change.
  diff_mode:
    support: full
    description: The privileges granted and revoked, one line each.
notes:
  - The connecting role must be able to grant and revoke what O(privileges) names (the owner, a member of the
    owner role, or a superuser), as with C(GRANT) itself.
author:
  - Sensa Learn platform team (@sensa-learn)
"""

EXAMPLES = r"""
- name: Grant the application group DML on two tables and take DELETE back on one of them
  sensa.infra.pg_grants:
    login_db: sensa
    privileges:
      - type: table
        schema: public
        objs: [courses, users]
        privs: [SELECT, INSERT, UPDATE, DELETE]
        roles: [sensa_app]
      - type: table
        schema: public
        objs: [users]
        privs: [INSERT, DELETE]
        roles: [sensa_app]
        state: absent

- name: Objects that later migrations create as sensa_migrator get the same grants
  sensa.infra.pg_grants:
    privileges:
      - type: default_privs
        schema: public
        target_role: sensa_migrator
        objs: [TABLES]
        privs: [SELECT]
        roles: [sensa_readonly]
"""

RETURN = r"""
changes:
  description: The effective privileges that were (or in check mode would be) granted or revoked.
  returned: always
  type: list
  elements: dict
  sample: [ { action: granted, object: table public.users, grantee: sensa_readonly, privilege: SELECT } ]
queries:
  description: The statements that ran, in order (identifiers quoted as the server received them).
  returned: always
  type: list
  elements: str
  sample: [ 'GRANT SELECT ON TABLE "public"."users" TO "sensa_readonly"' ]
missing_roles:
  description: Grantees left out because they do not exist (only with O(skip_missing_roles)).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.sensa.infra.plugins.module_utils.postgres_connection import (
    DatabaseError,
    PostgresModule,
    sql,
)

PRIVILEGES = {
    "SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN",
    "USAGE", "CREATE", "CONNECT", "TEMPORARY", "TEMP", "EXECUTE", "ALL", "ALL PRIVILEGES",
}
DEFAULT_PRIVS_OBJECTS = {"TABLES", "SEQUENCES", "FUNCTIONS", "ROUTINES", "TYPES", "SCHEMAS"}
OBJECT_KEYWORD = {"schema": "SCHEMA", "table": "TABLE", "sequence": "SEQUENCE", "function": "FUNCTION",
                  "database": "DATABASE"}
NEEDS_SCHEMA = ("table", "sequence", "function", "default_privs")

# Effective privileges of everything the statements can touch: (object, grantee, privilege, grantable).
# A NULL ACL stands for the built-in defaults (acldefault), so a first REVOKE from PUBLIC shows as a change.
SNAPSHOT_SQL = """
WITH acl(object, acl) AS (
  SELECT 'schema ' || n.nspname, COALESCE(n.nspacl, pg_catalog.acldefault('n', n.nspowner))
    FROM pg_catalog.pg_namespace n WHERE n.nspname = ANY(%(schemas)s)
  UNION ALL
  SELECT CASE WHEN c.relkind = 'S' THEN 'sequence ' ELSE 'table ' END || n.nspname || '.' || c.relname,
         COALESCE(c.relacl, pg_catalog.acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner))
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
  UNION ALL
  SELECT 'function ' || n.nspname || '.' || p.proname || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')',
         COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner))
    FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname = ANY(%(schemas)s)
  UNION ALL
  SELECT 'database ' || d.datname, COALESCE(d.datacl, pg_catalog.acldefault('d', d.datdba))
    FROM pg_catalog.pg_database d WHERE d.datname = ANY(%(databases)s)
  UNION ALL
  SELECT 'default privileges for ' || pg_catalog.pg_get_userbyid(a.defaclrole)
         || COALESCE(' in schema ' || n.nspname, '') || ' on ' || a.defaclobjtype::text, a.defaclacl
    FROM pg_catalog.pg_default_acl a LEFT JOIN pg_catalog.pg_namespace n ON n.oid = a.defaclnamespace
)
SELECT acl.object, CASE WHEN e.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.pg_get_userbyid(e.grantee) END,
       e.privilege_type, e.is_grantable
  FROM acl, pg_catalog.aclexplode(acl.acl) AS e
"""


def snapshot(cursor, schemas, databases):
    cursor.execute(SNAPSHOT_SQL, {"schemas": sorted(schemas), "databases": sorted(databases)})
    return set(tuple(row) for row in cursor.fetchall())


def describe_changes(before, after):
    changes = []
    for action, rows in (("revoked", before - after), ("granted", after - before)):
        for obj, grantee, privilege, grantable in sorted(rows):
            change = dict(action=action, object=obj, grantee=grantee, privilege=privilege)
            if grantable:
                change["with_grant_option"] = True
            changes.append(change)
    return changes


def existing_roles(cursor, names):
    cursor.execute("SELECT rolname FROM pg_catalog.pg_roles WHERE rolname = ANY(%s)", (sorted(names),))
    return set(row[0] for row in cursor.fetchall())


def check_entry(module, index, entry):
    where = "privileges[%d] (%s)" % (index, entry["type"])
    if entry["type"] in NEEDS_SCHEMA and not entry.get("schema"):
        module.fail_json(msg="%s: schema is required for type %s" % (where, entry["type"]))
    if entry["type"] == "default_privs":
        if not entry.get("target_role"):
            module.fail_json(msg="%s: target_role is required for type default_privs" % where)
        wrong = [o for o in entry["objs"] if o.upper() not in DEFAULT_PRIVS_OBJECTS]
        if wrong:
            allowed = ", ".join(sorted(DEFAULT_PRIVS_OBJECTS))
            module.fail_json(msg="%s: objs must be among %s, not %s" % (where, allowed, ", ".join(wrong)))
    wrong = [p for p in entry["privs"] if p.strip().upper() not in PRIVILEGES]
    if wrong:
        module.fail_json(msg="%s: unknown privilege %s (one of %s)" % (where, ", ".join(wrong), ", ".join(sorted(PRIVILEGES))))
    if not entry["roles"]:
        module.fail_json(msg="%s: roles must name at least one grantee (or PUBLIC)" % where)


def grantees(roles):
    return sql.SQL(", ").join(sql.SQL("PUBLIC") if r.upper() == "PUBLIC" else sql.Identifier(r) for r in roles)


def resolve_function(cursor, schema, signature):
    """schema.name(argument types) spelled and quoted by the server, or None when there is no such function."""
    name, paren, args = signature.partition("(")
    if not paren or not args.endswith(")"):
        return None
    cursor.execute(
        "SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(p.proname)"
        "       || '(' || pg_catalog.oidvectortypes(p.proargtypes) || ')'"
        "  FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace"
        " WHERE p.oid = pg_catalog.to_regprocedure(pg_catalog.quote_ident(%s) || '.' || pg_catalog.quote_ident(%s)"
        "                                          || '(' || %s)",
        (schema, name.strip(), args))
    row = cursor.fetchone()
    return row[0] if row else None


def statement(cursor, module, index, entry, roles):
    privs = sql.SQL(", ").join(sql.SQL(p.strip().upper()) for p in entry["privs"])
    verb, link = ("GRANT", "TO") if entry["state"] == "present" else ("REVOKE", "FROM")
    if entry["type"] == "default_privs":
        return sql.SQL("ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} {} {} ON {} {} {}").format(
            sql.Identifier(entry["target_role"]), sql.Identifier(entry["schema"]), sql.SQL(verb), privs,
            sql.SQL(", ").join(sql.SQL(o.upper()) for o in entry["objs"]), sql.SQL(link), grantees(roles))
    if entry["type"] == "function":
        objects = []
        for signature in entry["objs"]:
            resolved = resolve_function(cursor, entry["schema"], signature)
            if resolved is None:
                module.fail_json(msg="privileges[%d]: no function %s.%s in the database" % (index, entry["schema"], signature))
            # Built by the server from the catalog (quote_ident, format_type), not from the input text.
            objects.append(sql.SQL(resolved))
    elif entry["type"] in ("schema", "database"):
        objects = [sql.Identifier(o) for o in entry["objs"]]
    else:
        objects = [sql.Identifier(entry["schema"], o) for o in entry["objs"]]
    return sql.SQL("{} {} ON {} {} {} {}").format(
        sql.SQL(verb), privs, sql.SQL(OBJECT_KEYWORD[entry["type"]]), sql.SQL(", ").join(objects),
        sql.SQL(link), grantees(roles))


def main():
    entry_spec = dict(
        type=dict(type="str", required=True, choices=["schema", "table", "sequence", "function", "database", "default_privs"]),
        schema=dict(type="str"),
        objs=dict(type="list", elements="str", required=True),
        privs=dict(type="list", elements="str", required=True),
        roles=dict(type="list", elements="str", required=True),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        target_role=dict(type="str"),
    )
    module = PostgresModule(
        argument_spec=dict(
            privileges=dict(type="list", elements="dict", required=True, options=entry_spec),
            skip_missing_roles=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    entries = module.params["privileges"]
    for index, entry in enumerate(entries):
        check_entry(module, index, entry)

    schemas = set(e["schema"] for e in entries if e.get("schema"))
    schemas.update(o for e in entries if e["type"] == "schema" for o in e["objs"])
    databases = set(o for e in entries if e["type"] == "database" for o in e["objs"])
    named_roles = set(r for e in entries for r in e["roles"] if r.upper() != "PUBLIC")
    named_roles.update(e["target_role"] for e in entries if e["type"] == "default_privs")

    queries = []
    conn = module.connect(autocommit=False)
    try:
        with conn.cursor() as cursor:
            present = existing_roles(cursor, named_roles)
            missing = sorted(named_roles - present)
            if missing and not module.params["skip_missing_roles"]:
                module.fail_json(msg="role(s) %s do not exist in %s; create them first (sensa.infra.pg_access "
                                     "tasks_from: roles.yml)" % (", ".join(missing), module.target))
            before = snapshot(cursor, schemas, databases)
            for index, entry in enumerate(entries):
                roles = [r for r in entry["roles"] if r.upper() == "PUBLIC" or r in present]
                if not entry["objs"] or not roles or (entry["type"] == "default_privs" and entry["target_role"] not in present):
                    continue
                query = statement(cursor, module, index, entry, roles)
                text = query.as_string(conn)
                queries.append(text)
                try:
                    cursor.execute(query)
                except DatabaseError as exc:
                    conn.rollback()
                    module.fail_on_database_error(exc, "privileges[%d]: %s" % (index, text), queries=queries)
            after = snapshot(cursor, schemas, databases)
        changes = describe_changes(before, after)
        if module.check_mode or not changes:
            conn.rollback()
        else:
            conn.commit()
    except DatabaseError as exc:
        conn.rollback()
        module.fail_on_database_error(exc, "applying the privileges", queries=queries)
    finally:
        conn.close()

    result = dict(changed=bool(changes), changes=changes, queries=queries, missing_roles=missing)
    if module._diff:
        result["diff"] = dict(
            before="".join("%s %s on %s\n" % (c["grantee"], c["privilege"], c["object"]) for c in changes if c["action"] == "revoked"),
            after="".join("%s %s on %s\n" % (c["grantee"], c["privilege"], c["object"]) for c in changes if c["action"] == "granted"),
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
