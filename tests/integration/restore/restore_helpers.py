"""A seeded, archiving source database for the restore drill tests, and the ways they look at it.

The source is a cluster of its own (it runs with archive_mode=on, and the suite creates the
cluster-wide sensa_* roles), deployed by the real playbooks/database.yml (extensions, roles,
migrations as sensa_migrator, grants) and seeded by bench/seed.py at s=0.01.
"""

import contextlib
import json
import os
import secrets
import shutil
import sys
import tempfile

from support.ansible_run import run_playbook
from support.clusters import ScratchCluster
from support.collection import REPO_ROOT, ensure_collection_link

ensure_collection_link()

from ansible_collections.sensa.infra.plugins.module_utils import pg_cluster  # noqa: E402

sys.path.insert(0, os.path.join(REPO_ROOT, "bench"))

DATABASE = "sensa"
SCALE = 0.01


@contextlib.contextmanager
def archiving_source(engine):
    """(cluster, archive_dir, work_dir): a started cluster that archives its WAL; removed on exit."""
    work = tempfile.mkdtemp(prefix="sensa-restore-")
    archive = os.path.join(work, "wal-archive")
    os.makedirs(archive)
    uid, gid = pg_cluster._service_account()  # pylint: disable=protected-access
    if os.geteuid() == 0:
        os.chown(archive, uid, gid)
    cluster = ScratchCluster(os.path.join(work, "source"), engine=engine, superuser_password=secrets.token_urlsafe(18))
    try:
        cluster.init()
        cluster.start(settings={"wal_level": "replica", "archive_mode": "on",
                                "archive_command": "cp %%p %s/%%f" % archive, "archive_timeout": "0"})
        yield cluster, archive, work
    finally:
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)


def write_inventory(cluster, directory, extra=None):
    path = os.path.join(directory, "hosts.yml")
    host = {
        "ansible_connection": "local",
        "ansible_python_interpreter": os.path.join(REPO_ROOT, ".venv", "bin", "python"),
        "sensa_db_engine": cluster.engine,
        "sensa_db_login": {"login_unix_socket": cluster.socket_dir, "login_port": cluster.port,
                           "login_user": cluster.superuser, "login_db": DATABASE},
        "pg_extensions_uuid_ossp_required": False,
    }
    host.update(extra or {})
    with open(path, "w") as handle:
        json.dump({"all": {"children": {"sensa_databases": {"hosts": {"drill_db": host}}}}}, handle)
    return path


def deploy_and_seed(cluster, work):
    cluster.create_database(DATABASE)
    inventory = write_inventory(cluster, work)
    result = run_playbook(os.path.join(REPO_ROOT, "playbooks", "database.yml"), inventory=inventory)
    assert result.returncode == 0, result
    import common
    import seed

    seed.load(common.Target(cluster, DATABASE), scale=SCALE, progress=False, log=lambda *args: None)
    return inventory


def table_checksums(cluster, dbname=DATABASE):
    """{table: (rows, md5 of the rows' text in sorted order)}: the test's own formulation,
    independent of the one the drill uses."""
    import psycopg2

    conn = psycopg2.connect(**cluster.conninfo(dbname))
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = 'public' AND c.relkind = 'r' AND NOT EXISTS (SELECT 1 FROM pg_depend d "
                        "WHERE d.objid = c.oid AND d.deptype = 'e') ORDER BY 1")
            tables = [r[0] for r in cur.fetchall()]
            out = {}
            for table in tables:
                cur.execute('SELECT count(*), md5(coalesce(string_agg(t::text, E\'\\n\' ORDER BY t::text), \'\')) '
                            'FROM public."%s" t' % table)
                out[table] = tuple(cur.fetchone())
        return out
    finally:
        conn.close()


def drill(inventory, local_dir, **extra_vars):
    """Run playbooks/restore_drill.yml; the temporary target goes under <local_dir>/.work-dir's
    short directory (unix socket paths are limited), which leftover_targets() then inspects."""
    work = tempfile.mkdtemp(prefix="sd-")
    os.makedirs(local_dir, exist_ok=True)
    with open(os.path.join(local_dir, ".work-dirs"), "a") as handle:
        handle.write(work + "\n")
    extra = {"sensa_local_dir": local_dir, "restore_drill_work_dir": work}
    extra.update(extra_vars)
    return run_playbook(os.path.join(REPO_ROOT, "playbooks", "restore_drill.yml"), inventory=inventory, extra_vars=extra)


def reports(local_dir):
    directory = os.path.join(local_dir, "reports")
    found = sorted(f for f in os.listdir(directory) if f.endswith(".json")) if os.path.isdir(directory) else []
    return [json.load(open(os.path.join(directory, f))) for f in found]


def leftover_targets(local_dir):
    """What the drills run with this local_dir left in their work directories (then removed)."""
    left = []
    with open(os.path.join(local_dir, ".work-dirs")) as handle:
        for work in handle.read().split():
            left += [os.path.join(work, name) for name in os.listdir(work)]
            shutil.rmtree(work, ignore_errors=True)
    return left
