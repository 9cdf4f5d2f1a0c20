# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options shared by every PostgreSQL module of sensa.infra.

The option names follow community.postgresql (login_host, login_port, login_user,
login_password, login_db, login_unix_socket, ssl_mode, ca_cert, connect_timeout) so
playbooks can pass the same variables to both collections. Empty values are dropped
before they reach libpq so its environment defaults (PGHOST, PGPASSFILE, ...) apply.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

try:
    import psycopg2
    import psycopg2.extensions

    HAS_PSYCOPG2 = True
    PSYCOPG2_IMPORT_ERROR = None
except ImportError:
    HAS_PSYCOPG2 = False
    PSYCOPG2_IMPORT_ERROR = traceback.format_exc()

SSL_MODES = ["allow", "disable", "prefer", "require", "verify-ca", "verify-full"]


def postgres_argument_spec():
    """The connection argument spec every module of ours extends."""
    return dict(
        login_user=dict(type="str", default="postgres", aliases=["login"]),
        login_password=dict(type="str", default="", no_log=True),
        login_host=dict(type="str", default="", aliases=["host"]),
        login_unix_socket=dict(type="str", default="", aliases=["unix_socket"]),
        login_port=dict(type="int", default=5432, aliases=["port"]),
        login_db=dict(type="str", default="postgres", aliases=["db", "database"]),
        ssl_mode=dict(type="str", default="prefer", choices=SSL_MODES),
        ca_cert=dict(type="str", aliases=["ssl_rootcert"]),
        connect_timeout=dict(type="int", default=10),
        application_name=dict(type="str", default="sensa.infra"),
    )


def libpq_params(params):
    """Map module parameters to libpq keywords, dropping empty values.

    A unix socket directory wins over a host name, as in community.postgresql.
    """
    mapping = {
        "login_host": "host",
        "login_user": "user",
        "login_password": "password",
        "login_port": "port",
        "login_db": "dbname",
        "ssl_mode": "sslmode",
        "ca_cert": "sslrootcert",
        "connect_timeout": "connect_timeout",
        "application_name": "application_name",
    }
    kw = {}
    for option, keyword in mapping.items():
        value = params.get(option)
        if value not in (None, ""):
            kw[keyword] = value
    if params.get("login_unix_socket"):
        kw["host"] = params["login_unix_socket"]
    return kw


def describe_target(params):
    """'user@host:port/db' for messages; never includes the password."""
    host = params.get("login_unix_socket") or params.get("login_host") or "(libpq default host)"
    return "%s@%s:%s/%s" % (
        params.get("login_user") or "(default user)",
        host,
        params.get("login_port"),
        params.get("login_db"),
    )


def explain_connect_error(exc, params):
    """A one-line, password-free explanation of a failed connection with the fix."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    secret = params.get("login_password")
    if secret:
        text = text.replace(secret, "********")
    target = describe_target(params)
    lowered = text.lower()
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        hint = "check login_user and login_password (or the secret they come from)"
    elif "does not exist" in lowered and "database" in lowered:
        hint = "create the database first or set login_db"
    elif "connection refused" in lowered or "no such file" in lowered or "could not translate" in lowered:
        hint = "check that the server is running and login_host/login_port/login_unix_socket point at it"
    elif "timeout" in lowered:
        hint = "the server did not answer within connect_timeout; check network access and security groups"
    else:
        hint = "check the connection options"
    return "cannot connect to PostgreSQL as %s: %s (%s)" % (target, text, hint)


def connect(module, params=None, autocommit=False, overrides=None):
    """Open a psycopg2 connection or fail the module with a clear message."""
    if not HAS_PSYCOPG2:
        module.fail_json(
            msg="the psycopg2 Python library is required on the host running this module "
            "(pip install psycopg2-binary)",
            exception=PSYCOPG2_IMPORT_ERROR,
        )
    params = dict(params if params is not None else module.params)
    kw = libpq_params(params)
    kw.update(overrides or {})
    try:
        conn = psycopg2.connect(**kw)
    except psycopg2.Error as exc:
        module.fail_json(msg=explain_connect_error(exc, params))
    conn.autocommit = autocommit
    return conn


def server_version_num(conn):
    return conn.server_version


def quote_ident(name, conn):
    return psycopg2.extensions.quote_ident(name, conn)
