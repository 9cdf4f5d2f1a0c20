#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_scram_password
short_description: Set a PostgreSQL role's password as a SCRAM-SHA-256 verifier computed on the control node
version_added: 1.0.0
description:
  - Computes the SCRAM-SHA-256 verifier of O(password) (RFC 5802/7677, PostgreSQL's SASLprep rules) where the
    module runs and sends only the verifier, C(ALTER ROLE ... PASSWORD 'SCRAM-SHA-256$...'). The plaintext
    never reaches the server, its logs or C(pg_stat_statements).
  - Idempotent. When C(pg_authid) is readable (superuser), the candidate password is checked against the stored
    verifier by recomputing it with the stored salt and iteration count, so setting the same password again
    reports C(changed=false). Where C(pg_authid) is not readable (Amazon RDS), O(unreadable_verifier) decides.
  - Optionally manages C(VALID UNTIL), for example to let a previous rotation user expire after a grace period.
  - Also removes a password (O(state=absent), C(PASSWORD NULL)), which stops password logins for the role.
author:
  - Sensa Learn platform team (@sensa-learn)
extends_documentation_fragment:
  - sensa.infra.postgres
options:
  name:
    description:
      - The role whose password is managed. It must exist.
    type: str
    required: true
    aliases: [ role, user ]
  password:
    description:
      - The new password, in clear text on the control node only. Required with O(state=present) unless only
        C(VALID UNTIL) is managed.
    type: str
  state:
    description:
      - V(present) sets O(password) (when given) and C(VALID UNTIL).
      - V(absent) sets C(PASSWORD NULL), so the role can no longer log in with a password.
    type: str
    choices: [ present, absent ]
    default: present
  iterations:
    description:
      - PBKDF2 iteration count of a new verifier (PostgreSQL's default C(scram_iterations) is 4096).
    type: int
    default: 4096
  valid_until:
    description:
      - C(VALID UNTIL) as PostgreSQL reads a C(timestamptz) (V(infinity), C(2026-03-01 00:00:00+00), ...).
      - A value in the past makes password logins of the role fail from now on; sessions already open continue.
      - Mutually exclusive with O(valid_for_seconds).
    type: str
  valid_for_seconds:
    description:
      - C(VALID UNTIL) = the server's C(now()) plus this many seconds (a grace period measured by the server clock).
    type: int
  valid_until_policy:
    description:
      - V(exact) sets the requested expiry whenever it differs (C(NULL) counts as V(infinity)).
      - V(keep_earlier) changes nothing when the role already expires at or before the requested time, so a
        re-run with O(valid_for_seconds) does not push an expiry further out.
    type: str
    choices: [ exact, keep_earlier ]
    default: exact
  unreadable_verifier:
    description:
      - What to do when the stored verifier cannot be read (C(pg_authid) is denied, as on Amazon RDS).
      - V(login) compares by logging in as O(name) with O(password) over the same connection options
        (same host, port, database, TLS); success means nothing to change. A role that is C(NOLOGIN),
        expired, or refused by C(pg_hba.conf) therefore counts as changed.
      - V(changed) always sets the password (reports changed on every run).
      - V(fail) stops with an error.
    type: str
    choices: [ login, changed, fail ]
    default: login
  quiet_statement_log:
    description:
      - Before an C(ALTER ROLE) that sets a password, switch off, for that transaction only (C(SET LOCAL)), every
        server setting that would write the statement, verifier included, to the server log or keep it -
        C(log_statement), C(log_min_duration_statement), C(log_min_error_statement), and
        C(pg_stat_statements.track_utility) where that extension is loaded.
      - Each needs superuser (or C(GRANT SET ON PARAMETER)); one that cannot be set is skipped with a warning naming
        it (as on RDS, where the parameter group should keep C(log_statement) below C(ddl) and
        C(log_min_duration_statement) at -1 or above the statement's duration).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Decides what would change (reading the verifier or testing a login) and changes nothing.
  diff_mode:
    support: none
    description: Secrets and verifiers are never shown as a diff.
notes:
  - The verifier is a salted hash, not the password; it still deserves care (it allows offline guessing), hence
    O(quiet_statement_log).
  - RETURN never contains the password or the verifier; RV(queries) shows a placeholder.
  - Never use this on the RDS master user, whose password is managed by RDS (C(manage_master_user_password)).
seealso:
  - module: sensa.infra.db_secret
  - name: PostgreSQL password authentication
    description: How SCRAM-SHA-256 verifiers are stored.
    link: https://www.postgresql.org/docs/current/auth-password.html
"""

EXAMPLES = r"""
- name: Set the new application user's password (idempotent)
  sensa.infra.pg_scram_password:
    name: sensa_app_b
    password: "{{ pending.secret.password }}"
    valid_until: infinity
  no_log: true

- name: Let the previous user expire after a 15 minute grace period
  sensa.infra.pg_scram_password:
    name: sensa_app_a
    valid_for_seconds: 900
    valid_until_policy: keep_earlier

- name: Remove the password entirely
  sensa.infra.pg_scram_password:
    name: sensa_app_a
    state: absent
"""

RETURN = r"""
role:
  description: The role.
  returned: always
  type: str
  sample: sensa_app_b
password_changed:
  description: Whether the password was (or in check mode would be) set or removed.
  returned: always
  type: bool
valid_until_changed:
  description: Whether C(VALID UNTIL) was (or would be) changed.
  returned: always
  type: bool
verifier_source:
  description: How the current password was compared, V(pg_authid), V(login), V(none) (not compared).
  returned: always
  type: str
  sample: pg_authid
valid_until:
  description: C(VALID UNTIL) of the role after the task (text as PostgreSQL prints it; null means no expiry).
  returned: always
  type: str
  sample: infinity
grace_seconds_left:
  description:
    - Seconds until the role's C(VALID UNTIL) when that is a finite time in the future (a grace period promised to the
      holders of its current password), else 0. Read before the task changes anything.
  returned: always
  type: int
  sample: 0
  version_added: 1.1.0
statement_logging_disabled:
  description: The settings switched off for the password change (see O(quiet_statement_log)).
  returned: when a password was set
  type: list
  elements: str
  sample: [ log_statement, log_min_duration_statement, log_min_error_statement ]
  version_added: 1.1.0
queries:
  description: Statements run (or that would run in check mode), the verifier replaced by a placeholder.
  returned: always
  type: list
  elements: str
  sample: ["ALTER ROLE \"sensa_app_b\" PASSWORD '<SCRAM-SHA-256 verifier>' VALID UNTIL 'infinity'"]
"""

from ansible_collections.sensa.infra.plugins.module_utils.postgres_connection import (
    DatabaseError,
    PostgresModule,
    psycopg2,
    quote_ident,
)
from ansible_collections.sensa.infra.plugins.module_utils.scram import build_verifier, verify_password

PLACEHOLDER = "<SCRAM-SHA-256 verifier>"


def read_verifier(cursor, role):
    """(readable, rolpassword) from pg_authid; readable is False when access is denied."""
    cursor.execute("SAVEPOINT read_verifier")
    try:
        cursor.execute("SELECT rolpassword FROM pg_catalog.pg_authid WHERE rolname = %s", (role,))
    except psycopg2.errors.InsufficientPrivilege:
        cursor.execute("ROLLBACK TO SAVEPOINT read_verifier")
        return False, None
    row = cursor.fetchone()
    cursor.execute("RELEASE SAVEPOINT read_verifier")
    return True, row[0] if row else None


def login_works(module, role, password):
    kw = module.conninfo(user=role, password=password, application_name="sensa.infra pg_scram_password check")
    try:
        conn = psycopg2.connect(**kw)
    except DatabaseError:
        return False
    conn.close()
    return True


# Every path by which the server writes a statement's text to its log or keeps it: the
# statement log, the duration log (log_min_duration_statement = 0 logs every statement with
# its text), the error log (log_min_error_statement adds the statement to any message of that
# severity or worse, so NOTICE or DEBUG messages during the ALTER ROLE would carry it), and
# pg_stat_statements, which keeps the text of utility statements. SET LOCAL: the transaction
# of the ALTER ROLE only. Each needs superuser (or a grant of SET on the parameter).
QUIET_SETTINGS = (
    ("log_statement", "none"),
    ("log_min_duration_statement", "-1"),
    ("log_min_error_statement", "panic"),
    ("pg_stat_statements.track_utility", "off"),
)


def quiet_statement_logging(cursor):
    """SET LOCAL each of QUIET_SETTINGS the login may set; returns (switched off, not permitted).
    pg_stat_statements.track_utility is skipped silently where the extension is not loaded."""
    done, skipped = [], []
    for name, value in QUIET_SETTINGS:
        cursor.execute("SAVEPOINT quiet")
        try:
            if "." in name:
                cursor.execute("SELECT current_setting(%s, true) IS NOT NULL", (name,))
                if not cursor.fetchone()[0]:
                    cursor.execute("RELEASE SAVEPOINT quiet")
                    continue
            cursor.execute("SELECT set_config(%s, %s, true)", (name, value))
            cursor.execute("RELEASE SAVEPOINT quiet")
            done.append(name)
        except DatabaseError:
            cursor.execute("ROLLBACK TO SAVEPOINT quiet")
            skipped.append(name)
    return done, skipped


def main():
    argument_spec = dict(
        name=dict(type="str", required=True, aliases=["role", "user"]),
        password=dict(type="str", no_log=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        iterations=dict(type="int", default=4096),
        valid_until=dict(type="str"),
        valid_for_seconds=dict(type="int"),
        valid_until_policy=dict(type="str", default="exact", choices=["exact", "keep_earlier"]),
        unreadable_verifier=dict(type="str", default="login", choices=["login", "changed", "fail"]),
        quiet_statement_log=dict(type="bool", default=True),
    )
    module = PostgresModule(
        argument_spec=argument_spec,
        mutually_exclusive=[("valid_until", "valid_for_seconds")],
        supports_check_mode=True,
    )
    params = module.params
    role = params["name"]
    password = params["password"]
    state = params["state"]
    if state == "absent" and password:
        module.fail_json(msg="state=absent removes the password; do not give one")
    if params["iterations"] < 1:
        module.fail_json(msg="iterations must be a positive integer")

    conn = module.connect()
    result = dict(changed=False, role=role, password_changed=False, valid_until_changed=False,
                  verifier_source="none", valid_until=None, queries=[])
    try:
        cursor = conn.cursor()
        cursor.execute("SELECT rolvaliduntil::text, "
                       "CASE WHEN rolvaliduntil > now() AND rolvaliduntil <> 'infinity' "
                       "THEN ceil(extract(epoch FROM rolvaliduntil - now()))::int ELSE 0 END "
                       "FROM pg_catalog.pg_roles WHERE rolname = %s", (role,))
        row = cursor.fetchone()
        if row is None:
            module.fail_json(msg="role %s does not exist on %s; create it first (pg_access)" % (role, module.target))
        result["valid_until"] = row[0]
        # A finite VALID UNTIL in the future is a grace period promised to the holders of the
        # current password (rotation step 6): replacing the password now would cut it short.
        result["grace_seconds_left"] = row[1]

        # password --------------------------------------------------------------------
        set_password = False
        if state == "absent" or password:
            readable, verifier = read_verifier(cursor, role)
            if readable:
                result["verifier_source"] = "pg_authid"
                set_password = verifier is not None if state == "absent" else not verify_password(password, verifier)
            elif params["unreadable_verifier"] == "fail":
                module.fail_json(msg="cannot read pg_authid as %s to compare the password of %s; connect as a superuser "
                                     "or set unreadable_verifier to login or changed" % (params["login_user"], role))
            elif params["unreadable_verifier"] == "login" and state == "present":
                result["verifier_source"] = "login"
                set_password = not login_works(module, role, password)
            else:
                set_password = True

        # VALID UNTIL -----------------------------------------------------------------
        target_sql = target_arg = None
        if params["valid_for_seconds"] is not None:
            target_sql, target_arg = "now() + make_interval(secs => %s)", params["valid_for_seconds"]
        elif params["valid_until"] is not None:
            target_sql, target_arg = "%s::timestamptz", params["valid_until"]
        set_expiry = False
        target_text = None
        if target_sql:
            if params["valid_until_policy"] == "exact":
                compare = "COALESCE(r.rolvaliduntil, 'infinity') IS DISTINCT FROM t.target"
            else:
                compare = "COALESCE(r.rolvaliduntil, 'infinity') > t.target"
            cursor.execute(
                "SELECT %s, t.target::text FROM pg_catalog.pg_roles r, (SELECT %s AS target) t WHERE r.rolname = %%s"
                % (compare, target_sql), (target_arg, role))
            set_expiry, target_text = cursor.fetchone()
        conn.commit()

        if not (set_password or set_expiry):
            module.exit_json(**result)

        ident = quote_ident(role, conn)
        clauses, shown, args = [], [], []
        if set_password:
            if state == "absent":
                clauses.append("PASSWORD NULL")
                shown.append("PASSWORD NULL")
            else:
                clauses.append("PASSWORD %s")
                shown.append("PASSWORD '%s'" % PLACEHOLDER)
                args.append(build_verifier(password, iterations=params["iterations"]))
        if set_expiry:
            # The literal computed above, so check mode and the real run agree on the instant.
            clauses.append("VALID UNTIL %s")
            shown.append("VALID UNTIL '%s'" % target_text)
            args.append(target_text)
        result["queries"] = ["ALTER ROLE %s %s" % (ident, " ".join(shown))]
        result.update(changed=True, password_changed=set_password, valid_until_changed=set_expiry)
        if set_expiry:
            result["valid_until"] = target_text

        if not module.check_mode:
            if params["quiet_statement_log"] and set_password:
                result["statement_logging_disabled"], skipped = quiet_statement_logging(cursor)
                if skipped:
                    module.warn("could not switch off %s for the password change (not permitted for %s): the "
                                "statement carrying the SCRAM verifier may reach the server log"
                                % (", ".join(skipped), params["login_user"] or "this login"))
            cursor.execute("ALTER ROLE %s %s" % (ident, " ".join(clauses)), args)
            conn.commit()
            cursor.execute("SELECT rolvaliduntil::text FROM pg_catalog.pg_roles WHERE rolname = %s", (role,))
            result["valid_until"] = cursor.fetchone()[0]
            conn.commit()
    except DatabaseError as exc:
        conn.rollback()
        module.fail_on_database_error(exc, "managing the password of role %s" % role)
    finally:
        conn.close()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
