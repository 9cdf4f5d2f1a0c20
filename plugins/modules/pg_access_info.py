#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_access_info
short_description: Report the database roles and verify the Sensa access model
version_added: 1.0.0
description:
  - Reads the PostgreSQL catalog (never writes) and reports the roles with their attributes and memberships,
    the schemas, relations, functions and types of O(schemas) with their owners, and the row-level security
    status of O(protected_tables).
  - Verifies the access model and returns every violation, each naming the object it is about
    (C(schema.table), C(schema.function(args)), a role, a schema or the database).
  - Row-level security must be enabled B(and forced) on every protected table. The protected tables are the database's
    own list, the rows of O(user_data_function) (defined by the migrations), plus O(protected_tables).
  - Catalog-driven, so a table added later without row-level security fails automatically - any table or foreign
    table of O(schemas) on which a role of O(app_roles) holds C(SELECT), C(INSERT), C(UPDATE) or C(DELETE) must have
    row-level security enabled and forced, and any view it can read must be C(security_invoker).
  - O(app_group) must hold no more privileges on a listed table than the list grants it (for example no C(DELETE) on
    C(users)).
  - With O(connect_only_app_database), none of O(closed_databases) may let C(PUBLIC) connect or create temporary
    tables. Databases the login cannot change (on RDS C(template1), owned by C(rdsadmin)) are returned in
    RV(other_databases_unchangeable) with a warning instead.
  - No login role other than O(migrator_role), and no role of O(app_roles), may own a schema, table, view,
    sequence, function or type in O(schemas). Objects that belong to an extension are not judged.
  - Every C(SECURITY DEFINER) function in O(schemas) must pin C(search_path) (C(ALTER FUNCTION ... SET search_path))
    and must not be executable by C(PUBLIC).
  - O(migrator_role) must exist, must not be a superuser, and must not have C(BYPASSRLS) unless
    O(migrator_may_bypass_rls) is set.
  - Every role of O(app_roles) must exist and must not be a superuser, have C(BYPASSRLS), C(CREATEROLE), C(CREATEDB) or
    C(REPLICATION), be a member of O(migrator_role) or of a predefined role that reads or writes around grants
    (C(pg_read_all_data), C(pg_write_all_data), the server file roles); it must not be able to C(CREATE) in the database
    or in any schema, nor create temporary tables unless O(allow_temporary) is set, nor hold C(TRUNCATE), C(TRIGGER),
    C(REFERENCES) or (PostgreSQL 17+) C(MAINTAIN) on a relation of O(schemas).
  - Uses C(pg_roles) and the C(has_*_privilege) functions only, never C(pg_authid), so it works as the RDS master user.
author:
  - Sensa Learn platform team (@sensa-learn)
extends_documentation_fragment:
  - sensa.infra.postgres
attributes:
  check_mode:
    support: full
    description: The module only reads; it behaves the same in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
options:
  schemas:
    description:
      - Schemas whose objects are reported and checked.
    type: list
    elements: str
    default: [ public ]
  protected_tables:
    description:
      - Tables that must have row-level security enabled and forced. A plain name is looked up in O(schemas) in order;
        C(schema.table) is taken as is. A missing table is a violation.
    type: list
    elements: str
    default: []
  user_data_function:
    description:
      - The function that lists the user-data tables, C(schema.name); each row is (C(table_name), C(app_privileges),
        C(ownership)). The migrations define it and read it themselves, the C(sensa.infra.pg_access) role grants from it.
    type: str
    default: public.sensa_user_data_tables
    version_added: 1.1.0
  require_user_data_function:
    description:
      - Report a C(user_data_list_missing) violation when O(user_data_function) does not exist.
    type: bool
    default: false
    version_added: 1.1.0
  app_group:
    description:
      - The application group whose table privileges are compared with the list.
    type: str
    default: sensa_app
    version_added: 1.1.0
  exempt_relations:
    description:
      - Bookkeeping relations (plain or C(schema.name)) that roles of O(app_roles) may read on purpose although they hold
        no user data and have no row-level security, e.g. C(migrations_log) for analytics.
    type: list
    elements: str
    default: []
    version_added: 1.1.0
  connect_only_app_database:
    description:
      - Report each of O(closed_databases) that C(PUBLIC) (so every application login) can connect to or create
        temporary tables in, when the login could close it.
    type: bool
    default: false
    version_added: 1.1.0
  closed_databases:
    description:
      - The other databases of the server that application logins must not reach; by default the maintenance databases
        every server has. Other application databases on the same server are closed by their own deployment.
    type: list
    elements: str
    default: [ postgres, template1 ]
    version_added: 1.1.0
  migrator_role:
    description:
      - The role that owns every object (migrations run as it).
    type: str
    default: sensa_migrator
  migrator_may_bypass_rls:
    description:
      - Accept C(BYPASSRLS) on O(migrator_role) (only for data backfills that must see every row).
    type: bool
    default: false
  app_roles:
    description:
      - Roles held to least privilege (DML and EXECUTE only) - the application group, its login users, and usually the
        admin and read-only groups.
    type: list
    elements: str
    default: [ sensa_app, sensa_app_a, sensa_app_b ]
  allow_temporary:
    description:
      - Accept that O(app_roles) can create temporary tables (the C(TEMPORARY) database privilege).
    type: bool
    default: false
  fail_on_violation:
    description:
      - Fail when any violation is found; the message names every object. The C(sensa.infra.pg_access) role sets it.
    type: bool
    default: false
notes:
  - Role names in O(app_roles) that do not exist are reported as C(role_missing) violations, not errors.
seealso:
  - module: community.postgresql.postgresql_info
  - module: sensa.infra.pg_migrate
"""

EXAMPLES = r"""
- name: Verify the access model and stop the play on any violation
  sensa.infra.pg_access_info:
    app_roles: [sensa_app, sensa_app_a, sensa_app_b, sensa_admin, sensa_readonly]
    fail_on_violation: true
    login_db: sensa

- name: Read roles and objects to build grants from
  sensa.infra.pg_access_info:
    schemas: [public]
  register: access

- name: Show what is wrong
  ansible.builtin.debug:
    msg: "{{ access.violations | map(attribute='message') | list }}"
  when: access.violations | length > 0
"""

RETURN = r"""
database:
  description: The database checked.
  returned: always
  type: str
  sample: sensa
server_version_num:
  description: C(server_version_num) of the server.
  returned: always
  type: int
  sample: 150010
current_user:
  description: The role the module connected as.
  returned: always
  type: str
  sample: postgres
current_user_is_superuser:
  description: Whether the login role is a superuser (the RDS master user is not).
  returned: always
  type: bool
roles:
  description: Every role except the predefined C(pg_*) ones, with its attributes and the roles it is a member of.
  returned: always
  type: list
  elements: dict
  sample:
    - name: sensa_app_a
      login: true
      superuser: false
      inherit: true
      createrole: false
      createdb: false
      replication: false
      bypassrls: false
      connection_limit: -1
      valid_until: null
      member_of: [ sensa_app ]
schemas:
  description: The schemas of O(schemas) that exist, with their owners.
  returned: always
  type: list
  elements: dict
  sample: [ { name: public, owner: sensa_migrator } ]
relations:
  description:
    - Tables, views, materialized views, sequences, foreign tables and composite types of O(schemas), extension members
      excluded. C(owned_by_table) is the table a sequence belongs to (serial or identity), else null.
  returned: always
  type: list
  elements: dict
  sample:
    - { schema: public, name: courses, kind: table, owner: sensa_migrator, rls_enabled: true, rls_forced: true, owned_by_table: null }
functions:
  description:
    - Functions and procedures of O(schemas), extension members excluded. C(privs_signature) is the form
      community.postgresql.postgresql_privs takes in C(objs) (argument types separated by colons).
  returned: always
  type: list
  elements: dict
  sample:
    - schema: public
      name: set_current_user_id
      identity_arguments: p_user_id uuid, is_local boolean
      argument_types: uuid, boolean
      privs_signature: set_current_user_id(uuid:boolean)
      owner: sensa_migrator
      kind: function
      security_definer: false
      returns_trigger: false
      search_path: null
      public_execute: true
types:
  description: Stand-alone types (enums, domains, ranges, base types) of O(schemas), extension members excluded.
  returned: always
  type: list
  elements: dict
  sample: [ { schema: public, name: document_status, kind: enum type, owner: sensa_migrator } ]
user_data_tables:
  description: The rows of O(user_data_function), or null when it does not exist.
  returned: always
  type: list
  elements: dict
  sample: [ { schema: public, name: users, app_privileges: [ SELECT, UPDATE ], ownership: self } ]
  version_added: 1.1.0
other_databases:
  description: The databases of O(closed_databases) that exist and accept connections, whether C(PUBLIC) may connect or create temporary tables
    there, and whether the login may change that.
  returned: always
  type: list
  elements: dict
  sample: [ { name: postgres, owner: postgres, public_connect: false, public_temporary: false, changeable: true } ]
  version_added: 1.1.0
other_databases_unchangeable:
  description: Other databases C(PUBLIC) can still reach that the login cannot close (reported as a warning).
  returned: always
  type: list
  elements: str
  sample: [ template1 ]
  version_added: 1.1.0
protected_tables:
  description: Row-level security status of each protected table (the database's list plus O(protected_tables)).
  returned: always
  type: list
  elements: dict
  sample: [ { table: public.courses, exists: true, rls_enabled: true, rls_forced: true, owner: sensa_migrator } ]
rls_summary:
  description: One line on the row-level security of O(protected_tables), for the site.yml summary.
  returned: always
  type: str
  sample: enabled and forced on 5/5 protected tables
app_role_privileges:
  description: For each existing role of O(app_roles), what it could create and which risky memberships and privileges it holds.
  returned: always
  type: dict
  sample:
    sensa_app_a:
      database_connect: true
      database_create: false
      database_temporary: false
      create_schemas: []
      member_of_watched: []
      ddl_like_table_privileges: []
violations:
  description: Every violation found; empty when the access model holds.
  returned: always
  type: list
  elements: dict
  contains:
    check:
      description: Which rule, e.g. C(rls_not_forced), C(owner_not_migrator), C(security_definer_search_path),
        C(security_definer_public_execute), C(app_role_can_create), C(app_role_bypassrls), C(role_missing).
      type: str
    object_type:
      description: Kind of the object named, e.g. C(table), C(function), C(schema), C(database), C(role).
      type: str
    object:
      description: The object, schema-qualified where that applies.
      type: str
    message:
      description: What is wrong and the statement that fixes it.
      type: str
  sample:
    - check: rls_not_forced
      object_type: table
      object: public.courses
      message: row-level security is not forced on public.courses, so its owner bypasses the policies (...)
passed:
  description: True when no violation was found.
  returned: always
  type: bool
"""

from ansible_collections.sensa.infra.plugins.module_utils.access_checks import (
    DEFAULT_APP_GROUP,
    DEFAULT_APP_ROLES,
    DEFAULT_CLOSED_DATABASES,
    DEFAULT_MIGRATOR_ROLE,
    DEFAULT_PROTECTED_TABLES,
    DEFAULT_SCHEMAS,
    DEFAULT_USER_DATA_FUNCTION,
    AccessConfig,
    check,
    protected_table_status,
    rls_summary,
    summarize,
    unchangeable_open_databases,
)
from ansible_collections.sensa.infra.plugins.module_utils.postgres_connection import DatabaseError, PostgresModule


def main():
    argument_spec = dict(
        schemas=dict(type="list", elements="str", default=list(DEFAULT_SCHEMAS)),
        protected_tables=dict(type="list", elements="str", default=list(DEFAULT_PROTECTED_TABLES)),
        migrator_role=dict(type="str", default=DEFAULT_MIGRATOR_ROLE),
        migrator_may_bypass_rls=dict(type="bool", default=False),
        app_roles=dict(type="list", elements="str", default=list(DEFAULT_APP_ROLES)),
        allow_temporary=dict(type="bool", default=False),
        fail_on_violation=dict(type="bool", default=False),
        user_data_function=dict(type="str", default=DEFAULT_USER_DATA_FUNCTION),
        require_user_data_function=dict(type="bool", default=False),
        app_group=dict(type="str", default=DEFAULT_APP_GROUP),
        connect_only_app_database=dict(type="bool", default=False),
        exempt_relations=dict(type="list", elements="str", default=[]),
        closed_databases=dict(type="list", elements="str", default=list(DEFAULT_CLOSED_DATABASES)),
    )
    module = PostgresModule(argument_spec=argument_spec, supports_check_mode=True)
    config = AccessConfig.from_params(module.params)

    conn = module.connect(autocommit=False)
    try:
        # Read-only all the way: nothing this module runs can change the database.
        conn.set_session(readonly=True)
        with conn.cursor() as cursor:
            facts, violations = check(cursor, config)
    except DatabaseError as exc:
        module.fail_on_database_error(exc, "reading the catalog")
    finally:
        conn.rollback()
        conn.close()

    result = dict(
        changed=False,
        database=facts["database"],
        server_version_num=facts["server_version_num"],
        current_user=facts["current_user"],
        current_user_is_superuser=facts["current_user_is_superuser"],
        roles=[r for r in facts["roles"] if not r["name"].startswith("pg_")],
        schemas=facts["schemas"],
        relations=facts["relations"],
        functions=facts["functions"],
        types=facts["types"],
        protected_tables=protected_table_status(facts, config),
        rls_summary=rls_summary(protected_table_status(facts, config)),
        app_role_privileges=facts["app_role_privileges"],
        user_data_tables=facts["user_data_tables"],
        other_databases=facts["other_databases"],
        other_databases_unchangeable=unchangeable_open_databases(facts),
        violations=violations,
        passed=not violations,
    )
    if module.params["connect_only_app_database"]:
        for name in result["other_databases_unchangeable"]:
            module.warn("every role can still connect to database %s, which %s cannot change (ask its owner to "
                        "REVOKE CONNECT, TEMPORARY ON DATABASE %s FROM PUBLIC)" % (name, facts["current_user"], name))
    if violations and module.params["fail_on_violation"]:
        module.fail_json(msg="%s in database %s" % (summarize(violations), facts["database"]), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
