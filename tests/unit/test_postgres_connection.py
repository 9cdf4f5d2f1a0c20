"""The connection layer of the PostgreSQL modules: redaction, errors, options, RDS IAM tokens.

PostgresModule is built from real module arguments (ansible's patch_module_args); a failed
connection is a real libpq error from a port nothing listens on, and the IAM token is a real
SigV4-signed token from boto3 with moto's offline AWS credentials.
"""

import json
import socket

import psycopg2
import pytest
from ansible.module_utils.testing import patch_module_args
from moto import mock_aws

from ansible_collections.sensa.infra.plugins.module_utils import postgres_connection as pc

SECRET = "s3cr3t-Passw0rd-do-not-log"


def closed_port():
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build(args, argument_spec=None):
    with patch_module_args(args):
        return pc.PostgresModule(argument_spec=argument_spec or {}, supports_check_mode=True)


def outcome(capsys, call):
    """Run ``call`` (which ends the module), return (exit code, the JSON it printed, the raw output)."""
    with pytest.raises(SystemExit) as ended, patch_module_args({}):  # exit_json/fail_json need ansible's profile
        call()
    out = capsys.readouterr().out
    return ended.value.code, json.loads(out), out


# redact -------------------------------------------------------------------------------
def test_redact_masks_every_secret_in_nested_values():
    value = {"msg": "pw=%s and again %s" % (SECRET, SECRET), "items": ["x %s" % SECRET, 3], "n": None}
    assert pc.redact(value, [SECRET]) == {"msg": "pw=******** and again ********", "items": ["x ********", 3], "n": None}


def test_redact_masks_the_longer_secret_whole_and_ignores_empty_ones():
    assert pc.redact("abc-abcdef", ["abc", "abcdef", "", None]) == "********-********"
    assert pc.redact("nothing to hide", ["", None]) == "nothing to hide"


def test_explain_connect_error_hides_the_password_and_names_the_fix():
    exc = psycopg2.OperationalError('connection to server failed: FATAL:  password authentication failed for '
                                    'user "app" (password %s)\nDETAIL: more' % SECRET)
    msg = pc.explain_connect_error(exc, dict(login_user="app", login_host="db", login_port=5432, login_db="sensa",
                                             login_password=SECRET))
    assert SECRET not in msg and "********" in msg
    assert msg.startswith("cannot connect to PostgreSQL as app@db:5432/sensa:")
    assert "check login_user and login_password" in msg and "DETAIL" not in msg


# options ------------------------------------------------------------------------------
def test_libpq_params_maps_ssl_files_and_connect_params_win():
    kw = pc.libpq_params(dict(login_host="db", login_user="u", login_password="", login_port=5432, login_db="d",
                              ssl_mode="verify-full", ca_cert="/ca.pem", ssl_cert="/c.pem", ssl_key="/k.pem",
                              connect_params={"target_session_attrs": "read-write", "sslmode": "require"}))
    assert kw == {"host": "db", "user": "u", "port": 5432, "dbname": "d", "sslmode": "require",
                  "sslrootcert": "/ca.pem", "sslcert": "/c.pem", "sslkey": "/k.pem",
                  "target_session_attrs": "read-write"}


def test_libpq_environment_is_what_libpq_sees_for_the_same_keywords():
    env = pc.libpq_environment({"host": "db", "password": SECRET, "sslcert": "/c.pem", "sslkey": "/k.pem", "port": 5433},
                               {"PGPASSWORD": "inherited", "PGHOSTADDR": "127.0.0.1", "PATH": "/bin"})
    # given keywords replace their variables; PGHOSTADDR (the private path's) stays, as it would for libpq
    assert env == {"PATH": "/bin", "PGHOST": "db", "PGPASSWORD": SECRET, "PGSSLCERT": "/c.pem", "PGSSLKEY": "/k.pem",
                   "PGPORT": "5433", "PGHOSTADDR": "127.0.0.1"}


def test_module_has_the_shared_options_and_marks_the_password_no_log():
    module = build(dict(login_password=SECRET, ssl_cert="/c.pem", ssl_key="/k.pem",
                        connect_params={"options": "-c search_path=x"}))
    assert SECRET in module.no_log_values
    kw = module.conninfo()
    assert kw["password"] == SECRET and kw["sslcert"] == "/c.pem" and kw["sslkey"] == "/k.pem"
    assert kw["options"] == "-c search_path=x"
    # an override (another login) replaces the password; an empty one leaves libpq its own sources
    assert module.conninfo(user="app", password="")["user"] == "app"
    assert "password" not in module.conninfo(user="app", password="")


# errors -------------------------------------------------------------------------------
def test_failed_connection_is_fail_json_without_the_password(capsys):
    port = closed_port()
    module = build(dict(login_host="127.0.0.1", login_port=port, login_user="app", login_password=SECRET,
                        login_db="sensa", connect_timeout=3))
    code, result, raw = outcome(capsys, module.connect)
    assert code == 1 and result["failed"] is True
    assert result["msg"].startswith("cannot connect to PostgreSQL as app@127.0.0.1:%d/sensa:" % port)
    assert "check that the server is running" in result["msg"]
    assert SECRET not in raw


def test_database_error_is_fail_json_with_the_first_line_and_no_secret(capsys):
    module = build(dict(login_host="db.internal", login_user="app", login_password=SECRET))
    exc = psycopg2.ProgrammingError('relation "x" does not exist (%s)\nLINE 1: SELECT ...' % SECRET)
    code, result, raw = outcome(capsys, lambda: module.fail_on_database_error(exc, "reading the catalog",
                                                                              queries=["SELECT '%s'" % SECRET]))
    assert code == 1
    assert result["msg"] == 'reading the catalog failed on app@db.internal:5432/postgres: relation "x" does not exist (********)'
    assert result["queries"] == ["SELECT '********'"]
    assert SECRET not in raw


def test_module_secrets_of_its_own_are_redacted_too(capsys):
    module = build(dict(password=SECRET), argument_spec=dict(password=dict(type="str", no_log=True)))
    code, result, raw = outcome(capsys, lambda: module.fail_json(msg="could not set %s" % SECRET))
    assert result["msg"] == "could not set ********" and SECRET not in raw


# RDS IAM authentication ----------------------------------------------------------------
RDS_HOST = "sensa-dev.abcdefghij12.eu-west-1.rds.amazonaws.com"


@pytest.mark.parametrize("ssl_mode", ["disable", "allow", "prefer"])
def test_iam_auth_refuses_an_ssl_mode_below_require(capsys, ssl_mode):
    code, result, _raw = outcome(capsys, lambda: build(dict(login_auth="rds_iam", login_host=RDS_HOST,
                                                            ssl_mode=ssl_mode)))
    assert code == 1
    assert result["msg"].startswith("login_auth=rds_iam needs ssl_mode require, verify-ca or verify-full")
    assert "ssl_mode=%s" % ssl_mode in result["msg"]


def test_iam_auth_refuses_a_password_too(capsys):
    code, result, raw = outcome(capsys, lambda: build(dict(login_auth="rds_iam", login_host=RDS_HOST,
                                                           ssl_mode="require", login_password=SECRET)))
    assert code == 1 and "leave login_password empty" in result["msg"] and SECRET not in raw


def test_iam_region_comes_from_the_option_the_session_or_the_endpoint():
    assert pc.rds_iam_region({"aws_region": "us-east-2", "login_host": RDS_HOST}, "eu-central-1") == "us-east-2"
    assert pc.rds_iam_region({"login_host": RDS_HOST}, "eu-central-1") == "eu-central-1"
    assert pc.rds_iam_region({"login_host": "127.0.0.1", "rds_iam_host": RDS_HOST}) == "eu-west-1"
    assert pc.rds_iam_region({"login_host": "127.0.0.1"}) is None


@mock_aws
def test_iam_token_is_the_password_signed_for_the_instance_endpoint(monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    # Through a tunnel: libpq talks to 127.0.0.1:<local port>, the token names the instance.
    module = build(dict(login_auth="rds_iam", login_host="127.0.0.1", login_port=15432, rds_iam_host=RDS_HOST,
                        rds_iam_port=5432, login_user="sensa_migrator", ssl_mode="require"))
    kw = module.conninfo()
    token = kw["password"]
    assert token.startswith(RDS_HOST + ":5432/?")
    assert "Action=connect" in token and "DBUser=sensa_migrator" in token and "X-Amz-Signature=" in token
    assert "eu-west-1%2Frds-db%2Faws4_request" in token  # region from the endpoint name
    assert kw["host"] == "127.0.0.1" and kw["port"] == 15432 and kw["sslmode"] == "require"
    assert module.conninfo()["password"] == token  # one token per module run
    for part in pc.token_secrets(token):
        assert part in module.no_log_values


@mock_aws
def test_iam_token_never_appears_in_a_failure_or_a_result(capsys):
    port = closed_port()
    module = build(dict(login_auth="rds_iam", login_host="127.0.0.1", login_port=port, rds_iam_host=RDS_HOST,
                        rds_iam_port=5432, login_user="sensa_app", ssl_mode="require", aws_region="eu-west-1",
                        connect_timeout=3))
    token = module.password()
    signature = token.split("X-Amz-Signature=")[1]
    code, result, raw = outcome(capsys, module.connect)
    assert code == 1 and result["msg"].startswith("cannot connect to PostgreSQL as sensa_app@127.0.0.1:%d" % port)
    assert token not in raw and signature not in raw

    # A result that somehow carried the token (or its signature alone) is masked too.
    code, result, raw = outcome(capsys, lambda: module.exit_json(changed=False, echo=token, sig=[signature]))
    assert code == 0 and result["echo"] == "********" and result["sig"] == ["********"]
    assert signature not in raw


def test_iam_token_without_credentials_fails_clearly(capsys, monkeypatch, tmp_path):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    module = build(dict(login_auth="rds_iam", login_host=RDS_HOST, ssl_mode="verify-full", login_user="app"))
    code, result, _raw = outcome(capsys, module.password)
    assert code == 1
    assert result["msg"].startswith("cannot get an RDS IAM authentication token for app@%s:5432" % RDS_HOST)
