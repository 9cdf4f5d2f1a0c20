"""Release readiness: several databases at once (forks > 1) and the AWX engine (ansible-runner).

Both tests use the real site.yml (extensions, roles, every migration as sensa_migrator,
grants and verification) and the real rotation playbook on local clusters.
"""

import glob
import json
import os
import shutil
import sys
import tempfile

import psycopg2
import pytest
import yaml

from ansible_collections.sensa.infra.plugins.module_utils.pg_cluster import Cluster
from support.ansible_run import run_playbook
from support.collection import REPO_ROOT

HOSTS = ("db1", "db2", "db3")


def write_inventory(directory, engine, hosts):
    inventory = {
        "all": {
            "vars": {
                "ansible_connection": "local",
                "ansible_python_interpreter": sys.executable,
                "sensa_local_dir": str(directory),
                "local_postgres_engine": engine,
                "pg_extensions_uuid_ossp_required": False,
            },
            "children": {"sensa_databases": {"children": {"sensa_local_databases": {
                "hosts": {host: {} for host in hosts}}}}},
        }
    }
    path = os.path.join(str(directory), "hosts.yml")
    with open(path, "w") as handle:
        yaml.safe_dump(inventory, handle)
    return path


@pytest.fixture
def state_dir():
    path = tempfile.mkdtemp(prefix="sensa-many-")
    try:
        yield path
    finally:
        for cluster_dir in glob.glob(os.path.join(path, "pg", "*")):
            Cluster(cluster_dir).destroy()
        shutil.rmtree(path, ignore_errors=True)


def read_secret(state_dir, host):
    with open(os.path.join(state_dir, "secrets", host, "app.json")) as handle:
        store = json.load(handle)
    current = [v for v in store["versions"].values() if "AWSCURRENT" in v["stages"]]
    assert len(current) == 1
    value = current[0]["value"]  # the secret string, JSON as in Secrets Manager
    return json.loads(value) if isinstance(value, str) else value


def login(secret, port=None):
    return psycopg2.connect(host=secret["host"], port=port or secret["port"], user=secret["username"],
                            password=secret["password"], dbname=secret["dbname"], sslmode="disable",
                            connect_timeout=5)


def test_three_databases_in_parallel_end_migrated_and_isolated(pg_engine, state_dir):
    inventory = write_inventory(state_dir, pg_engine, HOSTS)
    site = run_playbook("site.yml", inventory=inventory, extra_args=("--forks", "3"))
    assert site.returncode == 0, site
    assert set(site.recap) == set(HOSTS) and all(r["failed"] == 0 for r in site.recap.values())
    again = run_playbook("site.yml", inventory=inventory, extra_args=("--forks", "3"))
    assert again.returncode == 0 and again.changed() == 0, again

    rotate = run_playbook("playbooks/rotate_credentials.yml", inventory=inventory, extra_args=("--forks", "3"))
    assert rotate.returncode == 0, rotate

    ports = set()
    secrets_by_host = {}
    for host in HOSTS:
        cluster = Cluster(os.path.join(state_dir, "pg", host))
        assert cluster.running()
        ports.add(cluster.port)
        version = cluster.psql("SELECT max(version) FROM migrations_state WHERE applied", dbname="sensa").strip()
        assert version == sorted(f for f in os.listdir(os.path.join(REPO_ROOT, "files", "sql", "migrations")))[-1][:13]
        owner = cluster.psql("SELECT tableowner FROM pg_tables WHERE tablename = 'courses'", dbname="sensa").strip()
        assert owner == "sensa_migrator"
        secrets_by_host[host] = read_secret(state_dir, host)
    assert len(ports) == 3  # three separate servers

    # Each database's application secret works on its own server, through RLS, and nowhere else.
    for host, secret in secrets_by_host.items():
        assert secret["port"] == Cluster(os.path.join(state_dir, "pg", host)).port
        conn = login(secret)
        with conn, conn.cursor() as cur:
            cur.execute("SELECT set_current_user_id(gen_random_uuid())")
            cur.execute("SELECT count(*) FROM courses")
            assert cur.fetchone()[0] == 0
        conn.close()
        for other in HOSTS:
            if other == host:
                continue
            with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
                login(secret, port=secrets_by_host[other]["port"])


def test_site_and_rotation_under_ansible_runner(pg_engine, state_dir):
    ansible_runner = pytest.importorskip("ansible_runner")
    inventory = write_inventory(state_dir, pg_engine, ("awx_db",))
    private = os.path.join(state_dir, "runner")
    os.makedirs(private)
    env = {
        "ANSIBLE_CONFIG": os.path.join(REPO_ROOT, "ansible.cfg"),
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        "ANSIBLE_NOCOLOR": "1",
    }
    for playbook in ("site.yml", "playbooks/rotate_credentials.yml"):
        result = ansible_runner.run(private_data_dir=private, project_dir=REPO_ROOT, playbook=playbook,
                                    inventory=inventory, envvars=env, quiet=True, extravars={"pg_rotation_force": True})
        assert result.status == "successful" and result.rc == 0, (playbook, result.stdout.read()[-4000:])
        assert result.stats["failures"] == {} and "awx_db" in result.stats["ok"]

    # AWX keeps every job event: no password may be in any of them.
    secret = read_secret(state_dir, "awx_db")
    artifacts = []
    for path in glob.glob(os.path.join(private, "artifacts", "**", "*"), recursive=True):
        if os.path.isfile(path):
            with open(path, errors="replace") as handle:
                artifacts.append(handle.read())
    assert artifacts and secret["password"] not in "\n".join(artifacts)
    conn = login(secret)
    conn.close()
