"""The database stages reach a private database through the SSH backend of roles/db_path.

Real processes end to end, in network namespaces this suite creates (private_path_helpers.py):
PostgreSQL listens only inside `vpc`, sshd runs inside `bastion`, ansible-playbook runs inside
`ctl` with no route to `vpc`. What cannot run here is AWS's own SSM session: the ssm backend's
command line is covered by tests/unit/db_path, and its process handling here with
aws_cli_standin.py, a clearly named stand-in for `aws ssm start-session`.
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
SSM_TARGET = "i-0123456789abcdef0"
SSM_INVENTORY = {"db_path_backend": "ssm", "sensa_terraform_outputs": {"bastion_instance_id": SSM_TARGET},
                 "sensa_aws_region": "eu-west-1"}


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


def migrate_through_a_standin_ssm_then_rollback_check_through_ssh(net):
    """The ssm backend with aws_cli_standin.py as `aws` (a STAND-IN, see its docstring): the
    command line reaches `aws` as built, the bastion id comes from the Terraform outputs."""
    bindir = net.path("standin-bin")
    os.makedirs(bindir, exist_ok=True)
    os.symlink(os.path.join(os.path.dirname(__file__), "aws_cli_standin.py"), os.path.join(bindir, "aws"))
    plugin = os.path.join(bindir, "session-manager-plugin")
    with open(plugin, "w") as handle:
        handle.write("#!/bin/sh\necho 'session-manager-plugin stand-in: the aws stand-in does not call it'\n")
    os.chmod(plugin, 0o700)
    log = net.path("aws-standin.jsonl")
    env = {"SENSA_AWS_STANDIN_LOG": log, "SENSA_AWS_STANDIN_TARGET": SSM_TARGET,
           "SENSA_AWS_STANDIN_SSH": json.dumps(["-i", net.path("client_key"), "-o", "IdentitiesOnly=yes",
                                                "-o", "UserKnownHostsFile=%s" % net.path("known_hosts"),
                                                "-l", "root", "--", BASTION_CTL_ADDR])}
    net.write_inventory(**SSM_INVENTORY)
    try:
        migrate = net.run_playbook("playbooks/migrate.yml", env=env, path_prefix=bindir)
    finally:
        net.write_inventory()
    assert migrate.returncode == 0, migrate
    assert migrate.changed("vpcdb") == 0, migrate  # site.yml migrated already: nothing pending
    with open(log) as handle:
        calls = [json.loads(line) for line in handle]
    assert len(calls) == 1
    call = calls[0]
    assert call[:7] == ["ssm", "start-session", "--target", SSM_TARGET, "--document-name",
                        "AWS-StartPortForwardingSessionToRemoteHost", "--parameters"]
    local_port = re.fullmatch(r"host=%s,portNumber=%d,localPortNumber=(\d+)" % (re.escape(DB_ADDR), DB_PORT), call[7]).group(1)
    assert call[8:] == ["--region", "eu-west-1"]
    assert "SSM port forward via bastion instance %s (127.0.0.1:%s -> %s:%d)" % (SSM_TARGET, local_port, DB_ADDR, DB_PORT) \
        in flat(migrate.stdout)
    version = net.cluster.psql("SELECT max(version) FROM migrations_state WHERE applied", dbname="sensa").strip()
    assert version == latest_migration()
    assert_path_closed(net)
    timings = {"migrate_ssm_standin": migrate.elapsed}

    # rollback.yml in check mode through the ssh backend: it plans the rollback and changes nothing.
    before = database_state(net)
    rollback = net.run_playbook("playbooks/rollback.yml", {"pg_migrations_steps": 1}, extra_args=("--check", "--diff"))
    assert rollback.returncode == 0, rollback
    assert version in rollback.stdout  # the newest version is what a one-step rollback would undo
    assert database_state(net) == before
    assert_path_closed(net)
    timings["rollback_check"] = rollback.elapsed
    return timings


def test_site_rotation_migrate_and_rollback_through_the_path_then_a_dead_bastion_fails_fast_and_changes_nothing(net):
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

    # migrate.yml through the ssm backend (a stand-in aws CLI), rollback.yml in check mode through ssh.
    timings.update(migrate_through_a_standin_ssm_then_rollback_check_through_ssh(net))

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


def test_the_ssm_backend_without_the_aws_tools_fails_at_once_saying_how_to_install_them(net):
    net.write_inventory(**dict(SSM_INVENTORY, db_path_ssm_aws_binary="sensa-no-such-aws",
                               db_path_ssm_plugin_binary="sensa-no-such-session-manager-plugin"))
    try:
        result = net.run_playbook("playbooks/migrate.yml")
    finally:
        net.write_inventory()
    assert result.returncode != 0, result
    text = flat(result.stdout)
    assert "the ssm path to the database needs aws, session-manager-plugin on the controller" in text, result
    assert "install the AWS CLI v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html" in text
    assert "install the Session Manager plugin for the AWS CLI" in text
    assert result.elapsed < FAST and result.changed("vpcdb") == 0
    assert_path_closed(net)
