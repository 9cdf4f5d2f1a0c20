"""pg_extensions and the connection errors every module shares: clear messages, no traceback, no password."""

import os

from ansible_collections.sensa.infra.plugins.module_utils.pg_cluster import free_port
from support.ansible_run import run_playbook

PLAYBOOK = os.path.join(os.path.dirname(__file__), "playbooks", "extensions.yml")
WANTED = [{"name": "vector", "min_version": "0.5.0"}, {"name": "pg_trgm"}]


def run(login, extensions, check=False):
    return run_playbook(PLAYBOOK, inventory="localhost,", extra_vars={"login": login, "extensions": extensions},
                        check=check)


def test_install_check_idempotent(pg_db):
    check = run(pg_db.login, WANTED, check=True)
    assert check.returncode == 0 and check.changed() == 1, check
    assert pg_db.scalar("SELECT count(*) FROM pg_extension WHERE extname IN ('vector', 'pg_trgm')") == 0
    first = run(pg_db.login, WANTED)
    assert first.returncode == 0 and first.changed() == 1, first
    assert pg_db.scalar("SELECT count(*) FROM pg_extension WHERE extname IN ('vector', 'pg_trgm')") == 2
    assert run(pg_db.login, WANTED).changed() == 0


def test_unknown_extension_names_it_and_the_server(pg_db):
    result = run(pg_db.login, [{"name": "pg_trgmm"}])
    assert result.returncode != 0
    assert "extension 'pg_trgmm' is not available" in result.stdout and "did you mean pg_trgm" in result.stdout
    assert "PostgreSQL" in result.stdout and "Traceback" not in result.output


def test_too_old_extension_fails_with_what_to_do(pg_db):
    result = run(pg_db.login, [{"name": "vector", "min_version": "99.0"}])
    assert result.returncode != 0
    assert "older than the required 99.0" in result.stdout and "install pgvector 99.0 or newer" in result.stdout


def test_optional_missing_extension_is_reported_not_warned(pg_db):
    # A clean run warns about nothing (issue 15): the result names the extension and the reason.
    result = run_playbook(PLAYBOOK, inventory="localhost,", verbosity=1, extra_vars={
        "login": pg_db.login, "extensions": [{"name": "no_such_extension", "required": False}]})
    assert result.returncode == 0 and result.changed() == 0, result
    # (This test playbook's templated module args draw Ansible's own argsplat warning; not ours.)
    assert not [line for line in result.output.splitlines() if "[WARNING]" in line and "no_such_extension" in line], result
    assert "unavailable:\n    - no_such_extension" in result.stdout, result
    reasons = " ".join(result.stdout.split("unavailable_reasons:", 1)[-1].split())
    assert reasons.startswith("no_such_extension: ") and "is not available on PostgreSQL" in reasons, result


def test_wrong_password_is_clear_and_not_printed(pg_db):
    secret = "not-the-password-Zq81"
    login = {"login_host": "127.0.0.1", "login_port": pg_db.cluster.port, "login_user": "postgres",
             "login_password": secret, "login_db": pg_db.name, "ssl_mode": "disable"}
    result = run(login, WANTED)
    assert result.returncode != 0 and "password authentication failed" in result.stdout
    assert secret not in result.output and "Traceback" not in result.output


def test_right_password_over_tcp_works(pg_db):
    login = {"login_host": "127.0.0.1", "login_port": pg_db.cluster.port, "login_user": "postgres",
             "login_password": pg_db.superuser_password, "login_db": pg_db.name, "ssl_mode": "disable"}
    result = run(login, WANTED)
    assert result.returncode == 0, result
    assert pg_db.superuser_password not in result.output


def test_unreachable_server_is_clear():
    login = {"login_host": "127.0.0.1", "login_port": free_port(), "login_user": "postgres", "login_db": "x",
             "connect_timeout": 3}
    result = run(login, WANTED)
    assert result.returncode != 0
    assert "cannot connect to PostgreSQL as postgres@127.0.0.1" in result.stdout and "Traceback" not in result.output
