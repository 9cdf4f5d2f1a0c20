# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The connection layer every PostgreSQL module of sensa.infra shares.

The option names follow community.postgresql (login_host, login_port, login_user,
login_password, login_db, login_unix_socket, ssl_mode, ca_cert, ssl_cert, ssl_key,
connect_params, connect_timeout) so playbooks can pass the same variables to both
collections. Empty values are dropped before they reach libpq so its environment defaults
(PGHOST, PGPASSFILE, ...) apply.

``PostgresModule`` is the one place that checks for psycopg2, connects (with a password or
an RDS IAM authentication token), redacts secrets from every message and turns
``psycopg2.Error`` into ``fail_json``. Modules build it instead of ``AnsibleModule``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

# The one import of psycopg2 in this collection: modules and module_utils take psycopg2 (None
# without it), sql (unused here), DatabaseError and HAS_PSYCOPG2 from here.
try:
    import psycopg2
    import psycopg2.errors  # noqa: F401  (psycopg2 >= 2.8: the SQLSTATE classes)
    import psycopg2.extensions
    from psycopg2 import sql  # noqa: F401 pylint: disable=unused-import

    HAS_PSYCOPG2 = True
    PSYCOPG2_IMPORT_ERROR = None
    DatabaseError = psycopg2.Error
except ImportError:
    psycopg2 = sql = None
    HAS_PSYCOPG2 = False
    PSYCOPG2_IMPORT_ERROR = traceback.format_exc()

    class DatabaseError(Exception):
        """Stands in for psycopg2.Error where psycopg2 is missing; PostgresModule fails before any use."""


SSL_MODES = ["allow", "disable", "prefer", "require", "verify-ca", "verify-full"]
# RDS accepts an IAM token only over TLS; libpq's prefer/allow could fall back to plain text.
IAM_SSL_MODES = ("require", "verify-ca", "verify-full")
LOGIN_AUTH = ["password", "rds_iam"]
MASK = "********"

# Module option -> libpq keyword.
LIBPQ_KEYWORDS = (
    ("login_host", "host"),
    ("login_user", "user"),
    ("login_password", "password"),
    ("login_port", "port"),
    ("login_db", "dbname"),
    ("ssl_mode", "sslmode"),
    ("ca_cert", "sslrootcert"),
    ("ssl_cert", "sslcert"),
    ("ssl_key", "sslkey"),
    ("connect_timeout", "connect_timeout"),
    ("application_name", "application_name"),
)

# libpq keyword -> the environment variable libpq's client programs (pg_dump, psql) read.
LIBPQ_ENVIRONMENT = {
    "host": "PGHOST", "hostaddr": "PGHOSTADDR", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD",
    "dbname": "PGDATABASE", "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY", "sslcrl": "PGSSLCRL", "sslcompression": "PGSSLCOMPRESSION",
    "sslsni": "PGSSLSNI", "ssl_min_protocol_version": "PGSSLMINPROTOCOLVERSION",
    "ssl_max_protocol_version": "PGSSLMAXPROTOCOLVERSION", "requiressl": "PGREQUIRESSL",
    "connect_timeout": "PGCONNECT_TIMEOUT", "application_name": "PGAPPNAME", "options": "PGOPTIONS",
    "target_session_attrs": "PGTARGETSESSIONATTRS", "gssencmode": "PGGSSENCMODE", "krbsrvname": "PGKRBSRVNAME",
    "channel_binding": "PGCHANNELBINDING", "passfile": "PGPASSFILE", "service": "PGSERVICE",
    "client_encoding": "PGCLIENTENCODING", "require_auth": "PGREQUIREAUTH",
}

# An RDS endpoint names its region: <instance>.<id>.<region>.rds.amazonaws.com
RDS_HOST_REGION = re.compile(r"\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.rds\.amazonaws\.com(?:\.cn)?$")


def postgres_argument_spec():
    """The connection argument spec every module of ours extends (documented in doc_fragments/postgres.py)."""
    return dict(
        login_user=dict(type="str", default="postgres", aliases=["login"]),
        login_password=dict(type="str", default="", no_log=True),
        login_host=dict(type="str", default="", aliases=["host"]),
        login_unix_socket=dict(type="str", default="", aliases=["unix_socket"]),
        login_port=dict(type="int", default=5432, aliases=["port"]),
        login_db=dict(type="str", default="postgres", aliases=["db", "database"]),
        ssl_mode=dict(type="str", default="prefer", choices=SSL_MODES),
        ca_cert=dict(type="str", aliases=["ssl_rootcert"]),
        ssl_cert=dict(type="path"),
        ssl_key=dict(type="path", no_log=False),
        connect_params=dict(type="dict", default={}),
        connect_timeout=dict(type="int", default=10),
        application_name=dict(type="str", default="sensa.infra"),
        login_auth=dict(type="str", default="password", choices=LOGIN_AUTH),
        aws_region=dict(type="str"),
        aws_profile=dict(type="str"),
        aws_endpoint_url=dict(type="str"),
        rds_iam_host=dict(type="str"),
        rds_iam_port=dict(type="int"),
    )


def libpq_params(params):
    """Map module parameters to libpq keywords, dropping empty values.

    A unix socket directory wins over a host name, as in community.postgresql; connect_params
    come last and win over everything, as there.
    """
    kw = {}
    for option, keyword in LIBPQ_KEYWORDS:
        value = params.get(option)
        if value not in (None, ""):
            kw[keyword] = value
    if params.get("login_unix_socket"):
        kw["host"] = params["login_unix_socket"]
    for keyword, value in (params.get("connect_params") or {}).items():
        if value not in (None, ""):
            kw[keyword] = value
    return kw


def libpq_environment(kw, base):
    """``base`` (usually os.environ) with the PG* variables of the libpq keywords ``kw``, for
    client programs: connection options, the password above all, never go on a command line.
    A keyword replaces its inherited variable; variables of keywords not given stay, so a
    client program sees what psycopg2.connect(**kw) sees (PGHOSTADDR of the private path, say)."""
    env = dict(base)
    for keyword, value in kw.items():
        variable = LIBPQ_ENVIRONMENT.get(keyword)
        if variable and value not in (None, ""):
            env[variable] = str(value)
    return env


def describe_target(params):
    """'user@host:port/db' for messages; never includes the password."""
    host = params.get("login_unix_socket") or params.get("login_host") or "(libpq default host)"
    return "%s@%s:%s/%s" % (
        params.get("login_user") or "(default user)",
        host,
        params.get("login_port"),
        params.get("login_db"),
    )


def redact(value, secrets):
    """``value`` (a string, or dicts/lists of them) with every non-empty secret replaced by ********.

    Longer secrets go first, so a secret containing another is masked whole."""
    ordered = sorted(set(s for s in secrets if isinstance(s, str) and s), key=len, reverse=True)
    if not ordered:
        return value
    if isinstance(value, str):
        for secret in ordered:
            value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        return dict((key, redact(item, ordered)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return type(value)(redact(item, ordered) for item in value)
    return value


def first_line(exc):
    """The first line of an exception's text (libpq adds DETAIL/HINT/CONTEXT lines), or its class."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


def token_secrets(token):
    """The parts of an RDS IAM token worth masking on their own: the whole token, and the
    signature and credential (a truncated token must not leak them either)."""
    found = [token]
    for name in ("X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token"):
        match = re.search(r"%s=([^&]+)" % name, token)
        if match:
            found.append(match.group(1))
    return found


def iam_auth_problem(params):
    """Why the connection options cannot use RDS IAM authentication, or None."""
    if params.get("login_auth") != "rds_iam":
        return None
    if params.get("login_password"):
        return ("login_auth=rds_iam takes the password from an IAM authentication token; leave login_password "
                "empty (it may come from group/sensa.infra.postgres module_defaults)")
    if params.get("ssl_mode") not in IAM_SSL_MODES:
        return ("login_auth=rds_iam needs ssl_mode require, verify-ca or verify-full (RDS accepts IAM tokens over "
                "TLS only, and libpq's ssl_mode=%s could send the token in plain text)" % params.get("ssl_mode"))
    if not (params.get("rds_iam_host") or params.get("login_host")):
        return ("login_auth=rds_iam needs the instance's endpoint: set login_host (or rds_iam_host when login_host "
                "is a local tunnel)")
    return None


def rds_iam_region(params, session_region=None):
    """aws_region, else the session's configured region, else the region in the RDS host name."""
    if params.get("aws_region"):
        return params["aws_region"]
    if session_region:
        return session_region
    match = RDS_HOST_REGION.search((params.get("rds_iam_host") or params.get("login_host") or "").lower())
    return match.group(1) if match else None


def explain_connect_error(exc, params, secrets=()):
    """A one-line, secret-free explanation of a failed connection with the fix."""
    text = redact(first_line(exc), list(secrets) + [params.get("login_password")])
    target = describe_target(params)
    lowered = text.lower()
    if params.get("login_auth") == "rds_iam" and ("pam authentication failed" in lowered
                                                  or "password authentication failed" in lowered):
        hint = ("the IAM token was refused: the database user needs GRANT rds_iam, the IAM identity needs "
                "rds-db:connect on it, the instance needs IAM authentication enabled, and rds_iam_host/rds_iam_port "
                "must name the instance endpoint the token was signed for")
    elif "password authentication failed" in lowered or "no password supplied" in lowered:
        hint = "check login_user and login_password (or the secret they come from)"
    elif "does not exist" in lowered and "database" in lowered:
        hint = "create the database first or set login_db"
    elif "connection refused" in lowered or "no such file" in lowered or "could not translate" in lowered:
        hint = "check that the server is running and login_host/login_port/login_unix_socket point at it"
    elif "timeout" in lowered:
        hint = "the server did not answer within connect_timeout; check network access and security groups"
    elif "ssl" in lowered or "certificate" in lowered:
        hint = "check ssl_mode, ca_cert, ssl_cert and ssl_key"
    else:
        hint = "check the connection options"
    return "cannot connect to PostgreSQL as %s: %s (%s)" % (target, text, hint)


def quote_ident(name, conn):
    return psycopg2.extensions.quote_ident(name, conn)


class PostgresModule(object):
    """AnsibleModule for a PostgreSQL module of ours: the shared connection options, the
    psycopg2 check, connect (password or RDS IAM token), secrets redacted in every message,
    and psycopg2.Error turned into fail_json.

    Every other attribute is the wrapped AnsibleModule's (params, check_mode, _diff, ...).
    """

    def __init__(self, argument_spec=None, **kwargs):
        spec = postgres_argument_spec()
        spec.update(argument_spec or {})
        self._module = AnsibleModule(argument_spec=spec, **kwargs)
        self._secrets = []
        for name, option in spec.items():
            if option.get("no_log") and isinstance(self._module.params.get(name), str):
                self._secrets.append(self._module.params[name])
        for keyword, value in (self._module.params.get("connect_params") or {}).items():
            if "password" in keyword and isinstance(value, str):
                self.add_secret(value)
        if not HAS_PSYCOPG2:
            self._module.fail_json(msg=missing_required_lib("psycopg2 (PyPI: psycopg2-binary)"),
                                   exception=PSYCOPG2_IMPORT_ERROR)
        problem = iam_auth_problem(self._module.params)
        if problem:
            self.fail_json(msg=problem)
        self._token = None

    def __getattr__(self, name):
        if name == "_module":  # not built yet: no recursion through __getattr__
            raise AttributeError(name)
        return getattr(self._module, name)

    # secrets ------------------------------------------------------------------------
    def add_secret(self, value):
        """Mask ``value`` in every message and result from now on (also Ansible's own no_log masking)."""
        if isinstance(value, str) and value:
            self._secrets.append(value)
            self._module.no_log_values.add(value)

    def redact(self, value):
        return redact(value, self._secrets)

    def fail_json(self, msg, **kwargs):
        self._module.fail_json(msg=self.redact(msg), **self.redact(kwargs))

    def exit_json(self, **kwargs):
        self._module.exit_json(**self.redact(kwargs))

    def warn(self, warning):
        self._module.warn(self.redact(warning))

    # connecting ---------------------------------------------------------------------
    @property
    def target(self):
        return describe_target(self._module.params)

    def password(self):
        """login_password, or with login_auth=rds_iam a fresh token (fetched once per module run)."""
        params = self._module.params
        if params["login_auth"] != "rds_iam":
            return params["login_password"]
        if self._token is None:
            self._token = self._fetch_token()
            for secret in token_secrets(self._token):
                self.add_secret(secret)
        return self._token

    def _fetch_token(self):
        params = self._module.params
        try:
            import boto3
            import botocore.exceptions
        except ImportError:
            self.fail_json(msg=missing_required_lib("boto3", reason="for login_auth=rds_iam"),
                           exception=traceback.format_exc())
        host = params["rds_iam_host"] or params["login_host"]
        port = params["rds_iam_port"] or params["login_port"]
        try:
            session = boto3.session.Session(profile_name=params["aws_profile"] or None)
            region = rds_iam_region(params, session.region_name)
            if not region:
                self.fail_json(msg="login_auth=rds_iam: no AWS region for %s; set aws_region" % host)
            client = session.client("rds", region_name=region, endpoint_url=params["aws_endpoint_url"] or None)
            return client.generate_db_auth_token(DBHostname=host, Port=int(port), DBUsername=params["login_user"],
                                                 Region=region)
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            self.fail_json(msg="cannot get an RDS IAM authentication token for %s@%s:%s: %s (check the AWS "
                               "credentials, aws_profile and aws_region)" % (params["login_user"], host, port, exc))

    def conninfo(self, **overrides):
        """The libpq keywords of the module's connection, secret included, with ``overrides``
        (libpq keywords) applied last. Pass them to psycopg2 or to libpq_environment()."""
        params = self._module.params
        kw = libpq_params(dict(params, login_password=""))
        if "password" not in overrides:
            password = self.password()
            if password and "password" not in (params.get("connect_params") or {}):
                kw["password"] = password
        kw.update(overrides)
        if overrides.get("password"):
            self.add_secret(overrides["password"])
        return dict((keyword, value) for keyword, value in kw.items() if value not in (None, ""))

    def connect(self, autocommit=False, **overrides):
        """A psycopg2 connection, or fail the module with a clear, secret-free message."""
        kw = self.conninfo(**overrides)
        try:
            conn = psycopg2.connect(**kw)
        except psycopg2.Error as exc:
            shown = dict(self._module.params)
            shown.update((option, kw[keyword]) for option, keyword in
                         (("login_user", "user"), ("login_db", "dbname"), ("login_port", "port")) if keyword in kw)
            self.fail_json(msg=explain_connect_error(exc, shown, self._secrets))
        conn.autocommit = autocommit
        return conn

    def fail_on_database_error(self, exc, doing, **result):
        """fail_json for a psycopg2.Error raised while ``doing`` something on the target."""
        self.fail_json(msg="%s failed on %s: %s" % (doing, self.target, first_line(exc)), **result)
