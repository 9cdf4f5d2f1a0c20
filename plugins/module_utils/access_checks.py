# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Sensa access model, read from the catalog and checked.

Two halves, so tests can use either without Ansible:

* ``gather(cursor, config)`` reads facts from the PostgreSQL catalog (read-only queries,
  no pg_authid, so it also works on RDS where the master user is not a superuser);
* ``evaluate(facts, config)`` is pure Python: it turns those facts into a list of
  violations, each naming the object it is about.

``check(cursor, config)`` does both. The ``pg_access_info`` module and the integration
tests call it; the unit tests call ``evaluate`` on hand-made facts.

Extension members (pgvector's type and functions, pg_trgm's operators, ...) are left out
of every object list: they are owned by whoever ran CREATE EXTENSION and are not ours
to judge.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DEFAULT_SCHEMAS = ("public",)
# Extra tables to hold to forced RLS, on top of the database's own list (below).
DEFAULT_PROTECTED_TABLES = ()
# The one list of user-data tables: a function the migrations define (0006) and read
# themselves. Its rows: (table_name, app_privileges text[], ownership).
DEFAULT_USER_DATA_FUNCTION = "public.sensa_user_data_tables"
DEFAULT_MIGRATOR_ROLE = "sensa_migrator"
DEFAULT_APP_GROUP = "sensa_app"
DEFAULT_APP_ROLES = ("sensa_app", "sensa_app_a", "sensa_app_b")
TABLE_DML = ("SELECT", "INSERT", "UPDATE", "DELETE")

# Predefined roles whose membership would let an application role read or write around
# the grants (pg_read_all_data, pg_write_all_data) or reach the server's file system.
PRIVILEGED_PREDEFINED_ROLES = (
    "pg_read_all_data",
    "pg_write_all_data",
    "pg_read_server_files",
    "pg_write_server_files",
    "pg_execute_server_program",
)

# Table privileges that are DDL in disguise: TRIGGER creates triggers, REFERENCES lets a
# foreign key lock and probe rows, TRUNCATE bypasses row-level security and row triggers,
# MAINTAIN (PostgreSQL 17+) runs VACUUM/ANALYZE/CLUSTER/REINDEX/REFRESH/LOCK.
DDL_LIKE_TABLE_PRIVILEGES = ("TRUNCATE", "TRIGGER", "REFERENCES")
MAINTAIN_MIN_VERSION = 170000

RELKIND_NAMES = {
    "r": "table",
    "p": "partitioned table",
    "v": "view",
    "m": "materialized view",
    "S": "sequence",
    "f": "foreign table",
    "c": "composite type",
}
PROKIND_NAMES = {"f": "function", "p": "procedure", "a": "aggregate", "w": "window function"}
TYPTYPE_NAMES = {"b": "base type", "d": "domain", "e": "enum type", "r": "range type", "m": "multirange type", "p": "pseudo type"}


class AccessConfig(object):
    """What the checks look for. Role and table names are plain (unquoted) identifiers."""

    def __init__(self, schemas=None, protected_tables=None, migrator_role=None, app_roles=None,
                 allow_temporary=False, migrator_may_bypass_rls=False, user_data_function=None,
                 require_user_data_function=False, app_group=None, connect_only_app_database=False,
                 exempt_relations=None, closed_databases=None):
        self.schemas = list(schemas if schemas is not None else DEFAULT_SCHEMAS)
        self.protected_tables = list(protected_tables if protected_tables is not None else DEFAULT_PROTECTED_TABLES)
        self.migrator_role = migrator_role if migrator_role is not None else DEFAULT_MIGRATOR_ROLE
        self.app_roles = list(app_roles if app_roles is not None else DEFAULT_APP_ROLES)
        self.allow_temporary = bool(allow_temporary)
        self.migrator_may_bypass_rls = bool(migrator_may_bypass_rls)
        self.user_data_function = user_data_function or DEFAULT_USER_DATA_FUNCTION
        self.require_user_data_function = bool(require_user_data_function)
        self.app_group = app_group or DEFAULT_APP_GROUP
        self.connect_only_app_database = bool(connect_only_app_database)
        # Bookkeeping relations granted on purpose (migrations_log to analytics): not user data.
        self.exempt_relations = list(exempt_relations or [])
        self.closed_databases = list(closed_databases if closed_databases is not None else DEFAULT_CLOSED_DATABASES)

    @classmethod
    def from_params(cls, params):
        return cls(
            schemas=params.get("schemas"),
            protected_tables=params.get("protected_tables"),
            migrator_role=params.get("migrator_role"),
            app_roles=params.get("app_roles"),
            allow_temporary=params.get("allow_temporary", False),
            migrator_may_bypass_rls=params.get("migrator_may_bypass_rls", False),
            user_data_function=params.get("user_data_function"),
            require_user_data_function=params.get("require_user_data_function", False),
            app_group=params.get("app_group"),
            connect_only_app_database=params.get("connect_only_app_database", False),
            exempt_relations=params.get("exempt_relations"),
            closed_databases=params.get("closed_databases"),
        )


# ---------------------------------------------------------------------------------------
# Reading the catalog

ROLES_SQL = """
SELECT r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin,
       r.rolreplication, r.rolbypassrls, r.rolconnlimit, r.rolvaliduntil::text,
       ARRAY(SELECT DISTINCT g.rolname::text
               FROM pg_catalog.pg_auth_members m
               JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
              WHERE m.member = r.oid
              ORDER BY 1) AS member_of
  FROM pg_catalog.pg_roles r
 ORDER BY r.rolname
"""

SCHEMAS_SQL = """
SELECT n.nspname, pg_catalog.pg_get_userbyid(n.nspowner)
  FROM pg_catalog.pg_namespace n
 WHERE n.nspname = ANY(%(schemas)s)
 ORDER BY n.nspname
"""

RELATIONS_SQL = """
SELECT n.nspname, c.relname, c.relkind::text, pg_catalog.pg_get_userbyid(c.relowner),
       c.relrowsecurity, c.relforcerowsecurity,
       coalesce('security_invoker=true' = ANY (c.reloptions) OR 'security_invoker=on' = ANY (c.reloptions), false),
       (SELECT t.relname
          FROM pg_catalog.pg_depend d
          JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
         WHERE c.relkind = 'S'
           AND d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
           AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')
         LIMIT 1) AS owned_by_table
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY(%(schemas)s)
   AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
                    WHERE e.classid = 'pg_catalog.pg_class'::regclass AND e.objid = c.oid AND e.deptype = 'e')
 ORDER BY n.nspname, c.relname
"""

FUNCTIONS_SQL = """
SELECT n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid),
       pg_catalog.oidvectortypes(p.proargtypes), pg_catalog.pg_get_userbyid(p.proowner),
       p.prosecdef, p.prokind::text, p.prorettype = 'pg_catalog.trigger'::pg_catalog.regtype,
       (SELECT cfg FROM unnest(p.proconfig) AS cfg WHERE cfg LIKE 'search\\_path=%%' LIMIT 1),
       EXISTS (SELECT 1
                 FROM pg_catalog.aclexplode(COALESCE(p.proacl, pg_catalog.acldefault('f', p.proowner))) AS a
                WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')
  FROM pg_catalog.pg_proc p
  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = ANY(%(schemas)s)
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
                    WHERE e.classid = 'pg_catalog.pg_proc'::regclass AND e.objid = p.oid AND e.deptype = 'e')
 ORDER BY n.nspname, p.proname, 3
"""

# Stand-alone types only: a table's row type and every array type share their parent's owner.
TYPES_SQL = """
SELECT n.nspname, t.typname, t.typtype::text, pg_catalog.pg_get_userbyid(t.typowner)
  FROM pg_catalog.pg_type t
  JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname = ANY(%(schemas)s)
   AND t.typrelid = 0
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type el WHERE el.typarray = t.oid)
   AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend e
                    WHERE e.classid = 'pg_catalog.pg_type'::regclass AND e.objid = t.oid AND e.deptype = 'e')
 ORDER BY n.nspname, t.typname
"""

ROLE_DATABASE_SQL = """
SELECT pg_catalog.has_database_privilege(%(role)s, pg_catalog.current_database(), 'CREATE'),
       pg_catalog.has_database_privilege(%(role)s, pg_catalog.current_database(), 'TEMPORARY'),
       pg_catalog.has_database_privilege(%(role)s, pg_catalog.current_database(), 'CONNECT'),
       ARRAY(SELECT n.nspname::text FROM pg_catalog.pg_namespace n
              WHERE n.nspname <> 'pg_toast'
                AND n.nspname NOT LIKE 'pg\\_temp\\_%%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%%'
                AND pg_catalog.has_schema_privilege(%(role)s, n.oid, 'CREATE')
              ORDER BY 1),
       ARRAY(SELECT g.rolname::text FROM pg_catalog.pg_roles g
              WHERE g.rolname = ANY(%(watched)s) AND g.rolname <> %(role)s
                AND pg_catalog.pg_has_role(%(role)s, g.oid, 'MEMBER')
              ORDER BY 1)
"""

ROLE_TABLE_PRIVILEGES_SQL = """
SELECT n.nspname, c.relname, ARRAY(SELECT priv FROM unnest(%(privileges)s::text[]) AS priv
                                   WHERE pg_catalog.has_table_privilege(%(role)s, c.oid, priv) ORDER BY 1)
  FROM pg_catalog.pg_class c
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY(%(schemas)s)
   AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
 ORDER BY n.nspname, c.relname
"""


# The server's other databases an application login could reach (by default the maintenance
# databases every server has: postgres and template1; other application databases on the
# same server are closed by their own deployment): PUBLIC's CONNECT/TEMPORARY there, and
# whether the current login may change that (owner, or superuser).
DEFAULT_CLOSED_DATABASES = ("postgres", "template1")
DATABASES_SQL = """
SELECT d.datname, pg_catalog.pg_get_userbyid(d.datdba),
       EXISTS (SELECT 1 FROM pg_catalog.aclexplode(COALESCE(d.datacl, pg_catalog.acldefault('d', d.datdba))) AS a
                WHERE a.grantee = 0 AND a.privilege_type = 'CONNECT'),
       EXISTS (SELECT 1 FROM pg_catalog.aclexplode(COALESCE(d.datacl, pg_catalog.acldefault('d', d.datdba))) AS a
                WHERE a.grantee = 0 AND a.privilege_type = 'TEMPORARY'),
       coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user), false)
           OR pg_catalog.pg_has_role(current_user, d.datdba, 'USAGE')
  FROM pg_catalog.pg_database d
 WHERE d.datallowconn AND d.datname <> pg_catalog.current_database() AND d.datname = ANY(%(closed)s)
 ORDER BY d.datname
"""


def read_user_data_tables(cursor, function_name):
    """Rows of the database's own list of user-data tables, or None when the function does not exist."""
    cursor.execute("SELECT pg_catalog.to_regproc(%s)::oid, n.nspname FROM pg_catalog.pg_proc p "
                   "JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
                   "WHERE p.oid = pg_catalog.to_regproc(%s)::oid", (function_name, function_name))
    row = cursor.fetchone()
    if row is None:
        return None
    oid, schema = row
    # The name comes from the catalog (to_regproc resolved it); regproc output is quoted as needed.
    cursor.execute("SELECT %s::regproc::text", (oid,))
    qualified_name = cursor.fetchone()[0]
    if "." not in qualified_name:
        qualified_name = '"%s".%s' % (schema.replace('"', '""'), qualified_name)
    cursor.execute("SELECT table_name, app_privileges, ownership FROM %s() ORDER BY 1" % qualified_name)
    return [dict(schema=schema, name=r[0], app_privileges=list(r[1] or []), ownership=r[2]) for r in cursor.fetchall()]


def _rows(cursor, sql, params=None):
    cursor.execute(sql, params or {})
    return cursor.fetchall()


def gather(cursor, config):
    """Read everything the checks need. Only SELECTs; safe in check mode and on replicas."""
    facts = {}
    cursor.execute("SELECT pg_catalog.current_database(), current_user, pg_catalog.current_setting('server_version_num')::int, "
                   "(SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)")
    facts["database"], facts["current_user"], facts["server_version_num"], facts["current_user_is_superuser"] = cursor.fetchone()

    roles = []
    for row in _rows(cursor, ROLES_SQL):
        roles.append(dict(
            name=row[0], superuser=row[1], inherit=row[2], createrole=row[3], createdb=row[4], login=row[5],
            replication=row[6], bypassrls=row[7], connection_limit=row[8], valid_until=row[9], member_of=list(row[10]),
        ))
    facts["roles"] = roles

    params = {"schemas": list(config.schemas)}
    facts["schemas"] = [dict(name=r[0], owner=r[1]) for r in _rows(cursor, SCHEMAS_SQL, params)]
    facts["relations"] = [
        dict(schema=r[0], name=r[1], kind=RELKIND_NAMES.get(r[2], r[2]), owner=r[3], rls_enabled=r[4], rls_forced=r[5],
             security_invoker=r[6], owned_by_table=r[7])
        for r in _rows(cursor, RELATIONS_SQL, params)
    ]
    facts["functions"] = [
        dict(schema=r[0], name=r[1], identity_arguments=r[2], argument_types=r[3], owner=r[4], security_definer=r[5],
             kind=PROKIND_NAMES.get(r[6], r[6]), returns_trigger=r[7], search_path=r[8], public_execute=r[9],
             privs_signature=privs_signature(r[1], r[3]))
        for r in _rows(cursor, FUNCTIONS_SQL, params)
    ]
    facts["types"] = [
        dict(schema=r[0], name=r[1], kind=TYPTYPE_NAMES.get(r[2], r[2]), owner=r[3])
        for r in _rows(cursor, TYPES_SQL, params)
    ]

    facts["user_data_tables"] = read_user_data_tables(cursor, config.user_data_function)
    facts["other_databases"] = [
        dict(name=r[0], owner=r[1], public_connect=r[2], public_temporary=r[3], changeable=r[4])
        for r in _rows(cursor, DATABASES_SQL, {"closed": list(config.closed_databases)})
    ]

    existing = set(r["name"] for r in roles)
    watched = [config.migrator_role] + list(PRIVILEGED_PREDEFINED_ROLES)
    table_privileges = list(DDL_LIKE_TABLE_PRIVILEGES)
    if facts["server_version_num"] >= MAINTAIN_MIN_VERSION:
        table_privileges.append("MAINTAIN")
    privileges = {}
    for role in config.app_roles:
        if role not in existing:
            continue
        cursor.execute(ROLE_DATABASE_SQL, {"role": role, "watched": watched})
        db_create, db_temp, db_connect, create_schemas, member_of = cursor.fetchone()
        tables = [
            dict(schema=r[0], name=r[1], privileges=list(r[2]))
            for r in _rows(cursor, ROLE_TABLE_PRIVILEGES_SQL, {"role": role, "privileges": table_privileges, "schemas": params["schemas"]})
            if r[2]
        ]
        dml = [
            dict(schema=r[0], name=r[1], privileges=list(r[2]))
            for r in _rows(cursor, ROLE_TABLE_PRIVILEGES_SQL, {"role": role, "privileges": list(TABLE_DML), "schemas": params["schemas"]})
            if r[2]
        ]
        cursor.execute("SELECT coalesce(array_agg(d.datname::text ORDER BY d.datname), '{}') FROM pg_catalog.pg_database d "
                       "WHERE d.datallowconn AND d.datname <> pg_catalog.current_database() "
                       "AND pg_catalog.has_database_privilege(%(role)s, d.oid, 'CONNECT')", {"role": role})
        connect_elsewhere = list(cursor.fetchone()[0])
        privileges[role] = dict(
            database_create=db_create, database_temporary=db_temp, database_connect=db_connect,
            create_schemas=list(create_schemas), member_of_watched=list(member_of), ddl_like_table_privileges=tables,
            table_privileges=dml, connect_other_databases=connect_elsewhere,
        )
    facts["app_role_privileges"] = privileges
    return facts


# ---------------------------------------------------------------------------------------
# Judging the facts (pure)

def qualified(schema, name):
    return "%s.%s" % (schema, name)


def function_signature(fn):
    return "%s.%s(%s)" % (fn["schema"], fn["name"], fn["identity_arguments"])


def violation(check, object_type, obj, message):
    return dict(check=check, object_type=object_type, object=obj, message=message)


def table_candidates(table, schemas):
    """The (schema, name) pairs a configured table name may mean, in order: 'schema.name' as is,
    'name' in each of ``schemas``."""
    if "." in table:
        return [tuple(table.split(".", 1))]
    return [(schema, table) for schema in schemas]


def _find_table(facts, config, table):
    """A configured protected table, looked up as table_candidates() says."""
    for schema, name in table_candidates(table, config.schemas):
        for rel in facts["relations"]:
            if rel["schema"] == schema and rel["name"] == name and rel["kind"] in ("table", "partitioned table"):
                return rel
    return None


def effective_protected_tables(facts, config):
    """The database's list (schema-qualified) plus the configured extras, in order, without repeats."""
    listed = [(t["schema"], t["name"]) for t in (facts.get("user_data_tables") or [])]
    names = ["%s.%s" % t for t in listed]
    for extra in config.protected_tables:
        if extra in names or any(name == extra for _schema, name in listed):
            continue
        names.append(extra)
    return names


def protected_table_status(facts, config):
    status = []
    for table in effective_protected_tables(facts, config):
        rel = _find_table(facts, config, table)
        if rel is None:
            status.append(dict(table=table, exists=False, rls_enabled=False, rls_forced=False, owner=None))
        else:
            status.append(dict(table=qualified(rel["schema"], rel["name"]), exists=True, rls_enabled=rel["rls_enabled"],
                               rls_forced=rel["rls_forced"], owner=rel["owner"]))
    return status


def rls_summary(status):
    """One line for the site.yml summary, e.g. 'enabled and forced on 5/5 protected tables'."""
    good = [s for s in status if s["exists"] and s["rls_enabled"] and s["rls_forced"]]
    line = "enabled and forced on %d/%d protected tables" % (len(good), len(status))
    bad = [s["table"] for s in status if s not in good]
    if bad:
        line += "; not on %s" % ", ".join(bad)
    return line


def _check_rls(facts, config):
    found = []
    if facts.get("user_data_tables") is None and config.require_user_data_function:
        found.append(violation("user_data_list_missing", "function", config.user_data_function,
                               "the list of user-data tables %s() does not exist: apply the migrations (0006 defines it)"
                               % config.user_data_function))
    for status in protected_table_status(facts, config):
        table = status["table"]
        if not status["exists"]:
            found.append(violation("protected_table_missing", "table", table,
                                   "protected table %s does not exist in schemas %s" % (table, ", ".join(config.schemas))))
            continue
        if not status["rls_enabled"]:
            found.append(violation("rls_not_enabled", "table", table,
                                   "row-level security is not enabled on %s (ALTER TABLE %s ENABLE ROW LEVEL SECURITY)" % (table, table)))
        if not status["rls_forced"]:
            found.append(violation("rls_not_forced", "table", table,
                                   "row-level security is not forced on %s, so its owner bypasses the policies "
                                   "(ALTER TABLE %s FORCE ROW LEVEL SECURITY)" % (table, table)))
    return found


def _owned_objects(facts):
    for schema in facts["schemas"]:
        yield "schema", schema["name"], schema["owner"]
    for rel in facts["relations"]:
        yield rel["kind"], qualified(rel["schema"], rel["name"]), rel["owner"]
    for fn in facts["functions"]:
        yield fn["kind"], function_signature(fn), fn["owner"]
    for typ in facts["types"]:
        yield typ["kind"], qualified(typ["schema"], typ["name"]), typ["owner"]


def _check_ownership(facts, config):
    """No login role but the migrator, and no application role at all, owns an object."""
    roles = dict((r["name"], r) for r in facts["roles"])
    app_roles = set(config.app_roles)
    found = []
    for object_type, name, owner in _owned_objects(facts):
        if owner == config.migrator_role:
            continue
        role = roles.get(owner)
        if owner in app_roles:
            why = "application role %s" % owner
        elif role is not None and role["login"]:
            why = "login role %s" % owner
        else:
            continue
        found.append(violation("owner_not_migrator", object_type, name,
                               "%s %s is owned by %s, not by %s (ALTER ... OWNER TO %s)"
                               % (object_type, name, why, config.migrator_role, config.migrator_role)))
    return found


def _check_security_definer(facts):
    found = []
    for fn in facts["functions"]:
        if not fn["security_definer"]:
            continue
        sig = function_signature(fn)
        if not fn["search_path"]:
            found.append(violation("security_definer_search_path", fn["kind"], sig,
                                   "SECURITY DEFINER %s %s has no pinned search_path (ALTER FUNCTION %s SET search_path = ...)"
                                   % (fn["kind"], sig, sig)))
        if fn["public_execute"]:
            found.append(violation("security_definer_public_execute", fn["kind"], sig,
                                   "SECURITY DEFINER %s %s is executable by PUBLIC (REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC)"
                                   % (fn["kind"], sig, sig)))
    return found


def _check_migrator(facts, config):
    roles = dict((r["name"], r) for r in facts["roles"])
    name = config.migrator_role
    role = roles.get(name)
    if role is None:
        return [violation("role_missing", "role", name, "owner role %s does not exist" % name)]
    found = []
    if role["superuser"]:
        found.append(violation("migrator_superuser", "role", name, "owner role %s is a superuser (ALTER ROLE %s NOSUPERUSER)" % (name, name)))
    if role["bypassrls"] and not config.migrator_may_bypass_rls:
        found.append(violation("migrator_bypassrls", "role", name,
                               "owner role %s has BYPASSRLS but migrator_may_bypass_rls is false (ALTER ROLE %s NOBYPASSRLS)" % (name, name)))
    return found


ROLE_ATTRIBUTE_CHECKS = (
    ("superuser", "app_role_superuser", "SUPERUSER", "NOSUPERUSER"),
    ("bypassrls", "app_role_bypassrls", "BYPASSRLS", "NOBYPASSRLS"),
    ("createrole", "app_role_createrole", "CREATEROLE", "NOCREATEROLE"),
    ("createdb", "app_role_createdb", "CREATEDB", "NOCREATEDB"),
    ("replication", "app_role_replication", "REPLICATION", "NOREPLICATION"),
)


def _check_app_roles(facts, config):
    roles = dict((r["name"], r) for r in facts["roles"])
    found = []
    for name in config.app_roles:
        role = roles.get(name)
        if role is None:
            found.append(violation("role_missing", "role", name, "application role %s does not exist" % name))
            continue
        for attribute, check, flag, fix in ROLE_ATTRIBUTE_CHECKS:
            if role[attribute]:
                found.append(violation(check, "role", name, "application role %s has %s (ALTER ROLE %s %s)" % (name, flag, name, fix)))
        priv = facts.get("app_role_privileges", {}).get(name)
        if priv is None:
            continue
        watched = set(priv["member_of_watched"])
        is_owner_member = config.migrator_role in watched
        if is_owner_member:
            found.append(violation("app_role_member_of_owner", "role", name,
                                   "application role %s is a member of the owner role %s (REVOKE %s FROM %s)"
                                   % (name, config.migrator_role, config.migrator_role, name)))
        for predefined in sorted(watched - set([config.migrator_role])):
            found.append(violation("app_role_privileged_membership", "role", name,
                                   "application role %s is a member of %s (REVOKE %s FROM %s)" % (name, predefined, predefined, name)))
        database = facts["database"]
        if priv["database_create"]:
            found.append(violation("app_role_can_create", "database", database,
                                   "application role %s can CREATE in database %s (REVOKE CREATE ON DATABASE %s FROM PUBLIC, %s)"
                                   % (name, database, database, name)))
        if priv["database_temporary"] and not config.allow_temporary:
            found.append(violation("app_role_can_create_temporary", "database", database,
                                   "application role %s can create temporary tables in database %s "
                                   "(REVOKE TEMPORARY ON DATABASE %s FROM PUBLIC, %s)" % (name, database, database, name)))
        for schema in priv["create_schemas"]:
            found.append(violation("app_role_can_create", "schema", schema,
                                   "application role %s can CREATE in schema %s (REVOKE CREATE ON SCHEMA %s FROM PUBLIC, %s)"
                                   % (name, schema, schema, name)))
        if role["superuser"] or is_owner_member:
            continue  # every table privilege follows; the findings above already say why
        for table in priv["ddl_like_table_privileges"]:
            obj = qualified(table["schema"], table["name"])
            found.append(violation("app_role_ddl_privilege", "table", obj,
                                   "application role %s holds %s on %s (REVOKE %s ON %s FROM ...)"
                                   % (name, ", ".join(table["privileges"]), obj, ", ".join(table["privileges"]), obj)))
    return found


def _check_reachable_without_rls(facts, config):
    """Catalog-driven: any table an application role can read or write must have forced RLS, and
    any view it can read must be security_invoker (a plain view runs with its owner's rights,
    and the owner's policies see every row). A table added later without RLS fails here."""
    rels = dict(((r["schema"], r["name"]), r) for r in facts["relations"])
    found = []
    seen = set()
    for role in config.app_roles:
        priv = facts.get("app_role_privileges", {}).get(role)
        if priv is None:
            continue
        for entry in priv.get("table_privileges", []):
            rel = rels.get((entry["schema"], entry["name"]))
            if rel is None:
                continue
            obj = qualified(rel["schema"], rel["name"])
            if rel["name"] in config.exempt_relations or obj in config.exempt_relations:
                continue
            if rel["kind"] in ("table", "partitioned table", "foreign table"):
                if rel["rls_enabled"] and rel["rls_forced"]:
                    continue
                key = ("table", obj)
                if key in seen:
                    continue
                seen.add(key)
                found.append(violation("app_reachable_without_rls", "table", obj,
                                       "application role %s holds %s on %s, which has no forced row-level security "
                                       "(list it in %s() and give it policies in a migration, or REVOKE ALL ON %s FROM %s)"
                                       % (role, ", ".join(entry["privileges"]), obj, config.user_data_function, obj, role)))
            elif rel["kind"] in ("view", "materialized view") and not rel.get("security_invoker"):
                key = ("view", obj)
                if key in seen:
                    continue
                seen.add(key)
                found.append(violation("app_reachable_view_not_invoker", rel["kind"], obj,
                                       "application role %s can read %s %s, which runs with its owner's rights "
                                       "(ALTER VIEW %s SET (security_invoker = true), or REVOKE ALL ON %s FROM %s)"
                                       % (role, rel["kind"], obj, obj, obj, role)))
    return found


def _check_listed_privileges(facts, config):
    """The application group holds no more on a listed table than the list grants (e.g. no DELETE on users)."""
    listed = facts.get("user_data_tables") or []
    priv = facts.get("app_role_privileges", {}).get(config.app_group)
    if not listed or priv is None:
        return []
    held = dict(((t["schema"], t["name"]), set(t["privileges"])) for t in priv.get("table_privileges", []))
    found = []
    for table in listed:
        extra = sorted(held.get((table["schema"], table["name"]), set()) - set(table["app_privileges"]))
        if extra:
            obj = qualified(table["schema"], table["name"])
            found.append(violation("app_privilege_not_listed", "table", obj,
                                   "%s holds %s on %s, which %s() does not grant (REVOKE %s ON %s FROM %s)"
                                   % (config.app_group, ", ".join(extra), obj, config.user_data_function,
                                      ", ".join(extra), obj, config.app_group)))
    return found


def _check_other_databases(facts, config):
    """With connect_only_app_database: none of the closed databases (postgres, template1) lets
    PUBLIC (so every application login) connect. A database the deployment login cannot change (RDS: template1, owned by
    rdsadmin) is reported in other_databases_unchangeable by the module, not as a violation here."""
    if not config.connect_only_app_database:
        return []
    found = []
    for db in facts.get("other_databases", []):
        if (db["public_connect"] or db["public_temporary"]) and db["changeable"]:
            found.append(violation("app_can_connect_elsewhere", "database", db["name"],
                                   "every role, the application logins included, can connect to database %s "
                                   "(REVOKE CONNECT, TEMPORARY ON DATABASE %s FROM PUBLIC)" % (db["name"], db["name"])))
    return found


def unchangeable_open_databases(facts):
    """Other databases PUBLIC can connect to that the deployment login cannot close (warnings)."""
    return [db["name"] for db in facts.get("other_databases", [])
            if (db["public_connect"] or db["public_temporary"]) and not db["changeable"]]


def evaluate(facts, config):
    """Every violation of the access model found in ``facts``, in a stable order."""
    found = []
    found.extend(_check_rls(facts, config))
    found.extend(_check_ownership(facts, config))
    found.extend(_check_security_definer(facts))
    found.extend(_check_migrator(facts, config))
    found.extend(_check_app_roles(facts, config))
    found.extend(_check_reachable_without_rls(facts, config))
    found.extend(_check_listed_privileges(facts, config))
    found.extend(_check_other_databases(facts, config))
    return found


def summarize(violations, limit=20):
    """One line naming the objects, for fail_json and assertions."""
    if not violations:
        return "no access-model violations"
    shown = "; ".join(v["message"] for v in violations[:limit])
    more = "" if len(violations) <= limit else "; ... and %d more" % (len(violations) - limit)
    return "%d access-model violation(s): %s%s" % (len(violations), shown, more)


def check(cursor, config):
    """gather + evaluate: (facts, violations)."""
    facts = gather(cursor, config)
    return facts, evaluate(facts, config)


# ---------------------------------------------------------------------------------------
# Helpers the pg_access role uses to build grants from the facts

def privs_signature(name, argument_types):
    """A function as community.postgresql.postgresql_privs wants it in C(objs): ``name(type1:type2)``.

    postgresql_privs splits C(objs) on commas and turns colons back into commas.
    """
    return "%s(%s)" % (name, ":".join(t.strip() for t in argument_types.split(",")) if argument_types else "")
