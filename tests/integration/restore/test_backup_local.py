"""make backup / make restore: playbooks/backup_local.yml and restore_local.yml on a local cluster
that provision.yml starts (as for inventories/local), in a short temporary sensa_local_dir."""

import json
import os
import shutil
import tempfile

import pytest
from restore_helpers import table_checksums

from support.ansible_run import run_playbook
from support.collection import REPO_ROOT, ensure_collection_link

ensure_collection_link()

from ansible_collections.sensa.infra.plugins.module_utils import pg_cluster  # noqa: E402


@pytest.fixture
def local(pg_engine):
    local_dir = tempfile.mkdtemp(prefix="sb-")  # the cluster's socket path must stay short
    inventory = os.path.join(local_dir, "hosts.yml")
    with open(inventory, "w") as handle:
        json.dump({"all": {"vars": {"sensa_local_dir": local_dir}, "children": {"sensa_databases": {"children": {
            "sensa_local_databases": {"hosts": {"local": {
                "ansible_connection": "local",
                "ansible_python_interpreter": os.path.join(REPO_ROOT, ".venv", "bin", "python"),
                "local_postgres_engine": pg_engine}}}}}}}}, handle)
    try:
        yield local_dir, inventory
    finally:
        base = os.path.join(local_dir, "pg", "local")
        if os.path.isdir(base):
            pg_cluster.Cluster(base).destroy()
        shutil.rmtree(local_dir, ignore_errors=True)


def play(name, inventory, **extra):
    return run_playbook(os.path.join(REPO_ROOT, "playbooks", name), inventory=inventory, extra_vars=extra or None)


def test_backup_then_restore_brings_the_saved_data_back(local):
    local_dir, inventory = local
    first = play("backup_local.yml", inventory)  # starts the cluster; backs up the empty database
    assert first.returncode == 0, first
    cluster = pg_cluster.Cluster(os.path.join(local_dir, "pg", "local"))
    cluster.psql("CREATE TABLE notes (id int PRIMARY KEY, body text); "
                 "INSERT INTO notes SELECT g, md5(g::text) FROM generate_series(1, 500) g", dbname="sensa")
    saved = table_checksums(cluster, "sensa")
    second = play("backup_local.yml", inventory)
    assert second.returncode == 0 and "make restore BACKUP=" in second.stdout, second

    cluster.psql("DELETE FROM notes WHERE id > 100; UPDATE notes SET body = 'changed'", dbname="sensa")
    assert table_checksums(cluster, "sensa") != saved
    restored = play("restore_local.yml", inventory)  # default: the newest backup
    assert restored.returncode == 0, restored
    assert table_checksums(cluster, "sensa") == saved

    sets = sorted(os.listdir(os.path.join(local_dir, "backups", "local")))
    assert len(sets) == 2
    oldest = play("restore_local.yml", inventory, restore_local_backup=os.path.join(local_dir, "backups", "local", sets[0]))
    assert oldest.returncode == 0, oldest
    assert cluster.psql("SELECT to_regclass('public.notes') IS NULL", dbname="sensa").strip() == "t"


def test_restore_refuses_a_truncated_backup_and_keeps_the_database(local):
    local_dir, inventory = local
    assert play("backup_local.yml", inventory).returncode == 0
    cluster = pg_cluster.Cluster(os.path.join(local_dir, "pg", "local"))
    cluster.psql("CREATE TABLE keep_me (id int)", dbname="sensa")
    [backup] = os.listdir(os.path.join(local_dir, "backups", "local"))
    dump = os.path.join(local_dir, "backups", "local", backup, "db.dump")
    with open(dump, "r+b") as handle:
        handle.truncate(os.path.getsize(dump) - 10)
    result = play("restore_local.yml", inventory)
    assert result.returncode != 0 and "is truncated or corrupted" in result.stdout, result
    assert cluster.psql("SELECT to_regclass('public.keep_me') IS NOT NULL", dbname="sensa").strip() == "t"
