#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_login_probe
short_description: Prove that a set of PostgreSQL credentials works, optionally through row-level security
version_added: 1.0.0
description:
  - Logs in with the given connection options (typically an application user and a freshly staged password),
    runs one read-only query and reports its first value. Fails with a password-free message when the login or the
    query fails.
  - With O(rls_user_id), first calls C(set_current_user_id(uuid)) in the same read-only transaction, so the query
    runs under the application's row-level security context, exactly as the application does.
  - Changes nothing on the server (C(changed) is always false); runs in check mode too.
author:
  - Sensa Learn platform team (@sensa-learn)
extends_documentation_fragment:
  - sensa.infra.postgres
options:
  query:
    description:
      - A read-only query; the first column of the first row is returned in RV(value).
    type: str
    default: SELECT 1
  rls_user_id:
    description:
      - UUID passed to C(set_current_user_id()) before O(query).
    type: str
  row_security_table:
    description:
      - A table whose row-level security must be active for the session (C(row_security_active())); the probe fails
        if it is not, e.g. when the user bypasses RLS or owns the table.
    type: str
attributes:
  check_mode:
    support: full
    description: The probe is read-only and runs in check mode as well.
  diff_mode:
    support: none
    description: Secrets and verifiers are never shown as a diff.
seealso:
  - module: sensa.infra.pg_scram_password
  - module: sensa.infra.db_secret
"""

EXAMPLES = r"""
- name: Connect as the new user with the pending secret, through RLS
  sensa.infra.pg_login_probe:
    login_host: "{{ pending.secret.host }}"
    login_port: "{{ pending.secret.port }}"
    login_db: "{{ pending.secret.dbname }}"
    login_user: "{{ pending.secret.username }}"
    login_password: "{{ pending.secret.password }}"
    rls_user_id: 00000000-0000-0000-0000-000000000000
    query: SELECT count(*) FROM courses
    row_security_table: courses
  no_log: true
"""

RETURN = r"""
current_user:
  description: The role the session ran as.
  returned: always
  type: str
  sample: sensa_app_b
value:
  description: First column of the first row of O(query), as text (null for no row).
  returned: always
  type: str
  sample: "0"
row_security_active:
  description: C(row_security_active(row_security_table)) for the session.
  returned: when O(row_security_table) is set
  type: bool
"""

from ansible_collections.sensa.infra.plugins.module_utils.postgres_connection import DatabaseError, PostgresModule


def main():
    module = PostgresModule(
        argument_spec=dict(
            query=dict(type="str", default="SELECT 1"),
            rls_user_id=dict(type="str"),
            row_security_table=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    conn = module.connect()
    result = dict(changed=False)
    try:
        conn.set_session(readonly=True)
        with conn.cursor() as cursor:
            if params["rls_user_id"]:
                cursor.execute("SELECT set_current_user_id(%s::uuid)", (params["rls_user_id"],))
            cursor.execute(params["query"])
            row = cursor.fetchone() if cursor.description else None
            result["value"] = None if not row or row[0] is None else str(row[0])
            cursor.execute("SELECT current_user")
            result["current_user"] = cursor.fetchone()[0]
            if params["row_security_table"]:
                cursor.execute("SELECT row_security_active(%s::regclass)", (params["row_security_table"],))
                result["row_security_active"] = cursor.fetchone()[0]
        conn.rollback()
    except DatabaseError as exc:
        module.fail_on_database_error(exc, "the probe query")
    finally:
        conn.close()
    if params["row_security_table"] and not result["row_security_active"]:
        module.fail_json(msg="row-level security is not active on %s for %s; the user must not own the table or have "
                             "BYPASSRLS" % (params["row_security_table"], result["current_user"]), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
