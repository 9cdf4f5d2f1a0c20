"""The database stages reach a private database through the SSH backend of roles/db_path.

Real processes end to end, in network namespaces this suite creates (private_path_helpers.py):
PostgreSQL listens only inside `vpc`, sshd runs inside `bastion`, ansible-playbook runs inside
`ctl` with no route to `vpc`. What cannot run here is AWS's own SSM session: the ssm backend's
command line is covered by tests/unit/db_path.
"""

import hashlib
import json
import os
import re
import sys
import time

import pytest
from private_path_helpers import BASTION_CTL_ADDR, DB_ADDR, DB_PORT, private_database, unavailable_reason

from support.collection import REPO_ROOT

PATH_OPEN_FAILED = "could not open the ssh tunnel via bastion root@%s" % BASTION_CTL_ADDR
FIX = "Fix: check that the bastion is up and accepts your key and host key (ssh -p 22 root@%s true)" % BASTION_CTL_ADDR
# Well below db_path_open_timeout (60 s): a failure that waited for a timeout would not pass.
FAST = 60


@pytest.fixture(scope="module")
def net(pg_engine):
    reason = unavailable_reason()
    if reason:
        pytest.skip("not run because: %s" % reason)
    with private_database(pg_engine) as topology:
        topology.write_inventory()
        yield topology


def flat(text):
    """The callback's YAML output folds long messages: compare with the whitespace normalised."""
    return " ".join(text.split())


def latest_migration():
    return sorted(os.listdir(os.path.join(REPO_ROOT, "files", "sql", "migrations")))[-1][:13]


def database_state(net):
    """What a play could change: the migration log, the sensa roles and their verifiers, the secret."""
    log = net.cluster.psql("SELECT count(*) FROM migrations_log", dbname="sensa").strip()
    roles = net.cluster.psql("SELECT string_agg(rolname || ':' || coalesce(rolpassword, '-'), ',' ORDER BY rolname) "
                             "FROM pg_authid WHERE rolname LIKE 'sensa%'").strip()
    secret = hashlib.sha256(net.read("local/secrets/vpcdb/app.json").encode()).hexdigest()
    return log, roles, secret


def assert_path_closed(net):
    assert net.listeners("ctl") == [], "a forwarded port is still open in the controller's namespace"
    assert net.processes_in("ctl") == [], "a tunnel process is still running"
    assert [name for name in os.listdir(net.path("path-state")) if name.endswith(".json")] == []


def test_the_database_is_private_and_only_the_bastion_reaches_it(net):
    reachable, error = net.connect_from("ctl", DB_ADDR, DB_PORT)
    assert not reachable and "unreachable" in error.lower()
    assert net.listeners("vpc") == ["%s:%d" % (DB_ADDR, DB_PORT)]
    assert net.connect_from("bastion", DB_ADDR, DB_PORT) == (True, "")
    assert net.connect_from("ctl", BASTION_CTL_ADDR, 22) == (True, "")


def test_site_and_rotation_through_the_ssh_path_then_a_dead_bastion_fails_fast_and_changes_nothing(net):
    timings = {}
    sampler = net.start_listener_sampler()
    try:
        site = net.run_playbook("site.yml")
        rotation = net.run_playbook("playbooks/rotate_credentials.yml", {"pg_rotation_force": "true"})
    finally:
        samples = net.stop_listener_sampler(sampler)
    timings.update(site=site.elapsed, rotation=rotation.elapsed)
    assert site.returncode == 0, site
    assert rotation.returncode == 0, rotation
    assert re.search(r"go through the ssh tunnel via bastion root@%s \(127\.0\.0\.1:\d+ -> %s:%d\)"
                     % (re.escape(BASTION_CTL_ADDR), re.escape(DB_ADDR), DB_PORT), flat(site.stdout))

    # The forwarded port existed while the plays ran, on loopback only, and is gone afterwards.
    seen = {address for sample in samples for address in sample}
    assert any(address.startswith("127.0.0.1:") for address in seen), samples
    assert all(address.startswith("127.0.0.1:") for address in seen), seen
    assert_path_closed(net)

    # The database stages ran for real through the path.
    version = net.cluster.psql("SELECT max(version) FROM migrations_state WHERE applied", dbname="sensa").strip()
    assert version == latest_migration()
    owner = net.cluster.psql("SELECT tableowner FROM pg_tables WHERE tablename = 'courses'", dbname="sensa").strip()
    assert owner == "sensa_migrator"

    # The secret names the database's own endpoint (what the application inside the VPC uses),
    # never the controller's forwarded port; and it works from inside (the bastion's namespace).
    store = json.loads(net.read("local/secrets/vpcdb/app.json"))
    current = [v for v in store["versions"].values() if "AWSCURRENT" in v["stages"]]
    secret = current[0]["value"]
    secret = json.loads(secret) if isinstance(secret, str) else secret
    assert (secret["host"], secret["port"]) == (DB_ADDR, DB_PORT)
    login = net.run_in("bastion", [
        sys.executable, "-c",
        "import psycopg2; psycopg2.connect(host=%r, port=%d, dbname='sensa', user=%r, connect_timeout=5).close()"
        % (DB_ADDR, DB_PORT, secret["username"])],
        check=False, env=dict(os.environ, PGPASSWORD=secret["password"]))
    assert login.returncode == 0, login.stderr

    # The bastion goes down: both playbooks fail at once, naming the path and the fix.
    before = database_state(net)
    net.stop_bastion()
    try:
        down_site = net.run_playbook("site.yml")
        down_rotation = net.run_playbook("playbooks/rotate_credentials.yml", {"pg_rotation_force": "true"})
    finally:
        net.start_bastion()
    timings.update(site_bastion_down=down_site.elapsed, rotation_bastion_down=down_rotation.elapsed)
    for result in (down_site, down_rotation):
        assert result.returncode != 0, result
        assert PATH_OPEN_FAILED in flat(result.stdout) and FIX in flat(result.stdout), result
        assert "Connection refused" in result.stdout, result  # what ssh said
        assert result.elapsed < FAST, result.elapsed
        assert result.changed("vpcdb") == 0, result
    assert database_state(net) == before
    assert_path_closed(net)
    print("private path timings (s): %s" % {k: round(v, 1) for k, v in timings.items()})


def test_a_path_that_dies_mid_run_fails_the_next_database_task_fast_naming_the_path(net):
    start = time.monotonic()
    try:
        result = net.run_playbook(os.path.join(os.path.dirname(__file__), "playbooks", "path_dies_mid_run.yml"),
                                  {"private_path_test_link": net.links["ctl"]})
    finally:
        net.set_controller_link(up=True)
    elapsed = time.monotonic() - start
    assert result.returncode != 0, result
    # The extensions task failed on its connection (libpq's connect_timeout, 10 s), then the rescue
    # named the path (its check gives up after db_path_probe_timeout, 5 s).
    assert "(failed task: Ensure the database extensions)" in flat(result.stdout), result
    assert re.search(r"the ssh tunnel via bastion root@%s \(127\.0\.0\.1:\d+ -> %s:%d\) is down"
                     % (re.escape(BASTION_CTL_ADDR), re.escape(DB_ADDR), DB_PORT), flat(result.stdout)), result
    assert FIX in flat(result.stdout), result
    assert elapsed < FAST + 30, elapsed
    assert_path_closed(net)
    print("private path timing (s): path dies mid-run %.1f" % elapsed)
