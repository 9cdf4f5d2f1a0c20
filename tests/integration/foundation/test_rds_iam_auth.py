"""login_auth=rds_iam end to end: a real boto3 token (credentials of moto, the RDS client pointed
at moto_server), a real TLS login through libpq, checked the way RDS checks it
(tests/support/rds_iam_endpoint.py, relaying valid logins to the real local PostgreSQL), and the
token nowhere in the output, not even at -vvv."""

import json
import os

import pytest

from support import moto_server
from support.ansible_run import run_playbook
from support.rds_iam_endpoint import RdsIamEndpoint

PLAYBOOK = os.path.join(os.path.dirname(__file__), "playbooks", "login_probe.yml")
RDS_HOST = "sensa-dev.abcdefghij12.eu-west-1.rds.amazonaws.com"


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory):
    proc, url = moto_server.start(str(tmp_path_factory.mktemp("moto") / "moto.log"))
    try:
        yield url
    finally:
        moto_server.stop(proc)


@pytest.fixture
def endpoint(pg_db, tmp_path):
    upstream = os.path.join(pg_db.cluster.socket_dir, ".s.PGSQL.%d" % pg_db.cluster.port)
    secret_keys = {moto_server.AWS_TEST_ENV["AWS_ACCESS_KEY_ID"]: moto_server.AWS_TEST_ENV["AWS_SECRET_ACCESS_KEY"]}
    with RdsIamEndpoint(str(tmp_path), RDS_HOST, 5432, secret_keys, upstream) as running:
        yield running


def run(pg_db, endpoint, moto_url, tmp_path, env=None, **login):
    result_file = str(tmp_path / "result.json")
    options = {"login_auth": "rds_iam", "login_host": "127.0.0.1", "login_port": endpoint.port,
               "rds_iam_host": RDS_HOST, "rds_iam_port": 5432, "login_user": pg_db.cluster.superuser,
               "login_db": pg_db.name, "ssl_mode": "require", "aws_endpoint_url": moto_url, "connect_timeout": 5}
    options.update(login)
    run_env = dict(moto_server.AWS_TEST_ENV)
    run_env.update(env or {})
    result = run_playbook(PLAYBOOK, inventory="localhost,", verbosity=3, env=run_env, extra_vars={
        "login": options, "probe": {"query": "SELECT current_database()"}, "result_file": result_file})
    data = None
    if os.path.exists(result_file):
        with open(result_file) as handle:
            data = json.load(handle)
    return result, data


def assert_no_token_anywhere(result, data, endpoint):
    assert endpoint.received, "the endpoint never got a password"
    for token in endpoint.received:
        signature = token.split("X-Amz-Signature=")[-1]
        for text in (result.output, json.dumps(data)):
            assert token not in text and signature not in text


def test_token_logs_in_over_tls_and_never_shows(pg_db, endpoint, moto_url, tmp_path):
    result, data = run(pg_db, endpoint, moto_url, tmp_path)
    assert result.returncode == 0, result
    assert data["value"] == pg_db.name and data["current_user"] == pg_db.cluster.superuser
    assert endpoint.refusals == [] and len(endpoint.received) == 1
    token = endpoint.received[0]
    assert token.startswith(RDS_HOST + ":5432/?Action=connect&DBUser=%s&" % pg_db.cluster.superuser)
    assert_no_token_anywhere(result, data, endpoint)


def test_a_refused_token_fails_with_the_iam_hint_and_no_token(pg_db, endpoint, moto_url, tmp_path):
    # Signed with a secret key the endpoint does not hold: RDS's answer is "PAM authentication failed".
    result, data = run(pg_db, endpoint, moto_url, tmp_path, env={"AWS_SECRET_ACCESS_KEY": "not-the-right-key"})
    assert result.returncode != 0 and data is None
    assert endpoint.refusals == ["bad signature"]
    assert "cannot connect to PostgreSQL as %s@127.0.0.1:%d" % (pg_db.cluster.superuser, endpoint.port) in result.stdout
    assert "PAM authentication failed" in result.stdout and "the IAM token was refused" in result.stdout
    assert "Traceback" not in result.output
    assert_no_token_anywhere(result, data, endpoint)


def test_ssl_mode_below_require_is_refused_before_any_token(pg_db, endpoint, moto_url, tmp_path):
    result, _data = run(pg_db, endpoint, moto_url, tmp_path, ssl_mode="prefer")
    assert result.returncode != 0
    assert "login_auth=rds_iam needs ssl_mode require, verify-ca or verify-full" in result.stdout
    assert endpoint.received == []
