"""Issue 12's rotation fixes: no SCRAM verifier in the server log whichever statement logging
path is on, a secret version without a password fails naming store, secret and version.
(A rotation refusing to cut a promised grace period short: test_rotation.py.)"""

import uuid

import pytest

SCRAM = "SCRAM-SHA-256$"

# Each server setting that, left alone, writes the ALTER ROLE ... PASSWORD 'SCRAM-SHA-256$...'
# statement to the log, with what proves the setting really was logging in this run.
LOGGING_PATHS = {
    "log_statement": ({"log_statement": "all"}, "statement: "),
    "log_min_duration_statement": ({"log_min_duration_statement": "0"}, "duration: "),
    # Any message at or above log_min_error_statement carries its statement: DEBUG messages
    # are emitted during every statement once log_min_messages lets them through.
    "log_min_error_statement": ({"log_min_messages": "debug5", "log_min_error_statement": "debug5"}, "STATEMENT: "),
}


def _log_since(cluster, offset):
    with open(cluster.logfile, errors="replace") as handle:
        handle.seek(offset)
        return handle.read()


@pytest.mark.parametrize("path", sorted(LOGGING_PATHS))
def test_password_changes_keep_the_verifier_out_of_the_server_log(file_rotation, path):
    r = file_rotation
    settings, proof = LOGGING_PATHS[path]
    # For every new session of this database: the rotation's own connections included.
    r.db.psql("".join("ALTER DATABASE \"%s\" SET %s = '%s';" % (r.db.name, k, v) for k, v in settings.items()))
    with open(r.db.cluster.logfile, errors="replace") as handle:
        handle.seek(0, 2)
        offset = handle.tell()
    try:
        boot = r.run()  # bootstrap: the first password
        assert boot.returncode == 0, boot
        rotated = r.run(pg_rotation_force=True, pg_rotation_grace_seconds=1)  # a second one
        assert rotated.returncode == 0, rotated
    finally:
        r.db.psql("ALTER DATABASE \"%s\" RESET ALL;" % r.db.name)
    log = _log_since(r.db.cluster, offset)
    assert proof in log, "the setting under test did not log anything: the test would prove nothing"
    assert SCRAM not in log
    for stage in ("AWSCURRENT", "AWSPREVIOUS"):
        assert r.secret(stage)["password"] not in log


def test_a_secret_without_a_password_fails_naming_store_secret_and_version(file_rotation):
    r = file_rotation
    assert r.run().returncode == 0
    broken = {k: v for k, v in r.secret().items() if k != "password"}
    version = str(uuid.uuid4())
    r.store.put_version(broken, version, ["AWSCURRENT"])
    result = r.run(pg_rotation_force=True)
    assert result.returncode != 0, result
    assert "has no password field" in result.output, result
    assert version in result.output and r.secret_file in result.output and "file store" in result.output, result
    assert "object of type 'dict' has no attribute" not in result.output
