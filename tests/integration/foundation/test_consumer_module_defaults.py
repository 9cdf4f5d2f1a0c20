"""The promise of docs/connecting.md: a consumer who sets only group/sensa.infra.postgres
module_defaults (no sensa_db_login, no inventory of ours) gets pg_extensions, pg_migrations and
every module of the group connected to their database with their options."""

import os

from support.ansible_run import run_playbook
from support.collection import REPO_ROOT

PLAYBOOK = os.path.join(os.path.dirname(__file__), "playbooks", "consumer_group_only.yml")


def latest_migration():
    names = sorted(f for f in os.listdir(os.path.join(REPO_ROOT, "files", "sql", "migrations")) if f.endswith(".sql"))
    return names[-1][:13]


def test_group_module_defaults_alone_reach_the_database(pg_db):
    # Over TCP with a password: a module that ignored the group would fall back to libpq's default
    # (a local socket as postgres, database postgres) and fail or land elsewhere.
    my_database = {"login_host": "127.0.0.1", "login_port": pg_db.cluster.port, "login_user": pg_db.cluster.superuser,
                   "login_password": pg_db.superuser_password, "login_db": pg_db.name, "ssl_mode": "disable",
                   "connect_timeout": 5}
    first = run_playbook(PLAYBOOK, inventory="localhost,", extra_vars={"my_database": my_database})
    assert first.returncode == 0, first
    assert "connected to %s as %s; schema version %s" % (pg_db.name, pg_db.cluster.superuser, latest_migration()) \
        in first.stdout
    assert pg_db.scalar("SELECT count(*) FROM pg_extension WHERE extname IN ('vector', 'pg_trgm')") == 2
    assert pg_db.scalar("SELECT max(version) FROM migrations_log WHERE status = 'success'") == latest_migration()
    assert pg_db.superuser_password not in first.output

    again = run_playbook(PLAYBOOK, inventory="localhost,", extra_vars={"my_database": my_database})
    assert again.returncode == 0 and again.changed() == 0, again
