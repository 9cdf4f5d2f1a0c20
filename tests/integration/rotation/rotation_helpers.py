"""Fixtures for the rotation tests: application roles and an RLS-protected table, moto as Secrets Manager.

The roles mirror what the pg_access role creates (sensa_app NOLOGIN group, sensa_app_a/b LOGIN members
without a password, sensa_migrator owning the objects). Roles are cluster-wide, so each test resets them.
The table is a stand-in for the real schema's ``courses``: same RLS shape (policy TO PUBLIC with a
predicate on current_user_id(), RLS forced), same set_current_user_id() helper.
"""

import json
import os
import sys
import uuid

import pytest
import yaml

from support import moto_server
from support.ansible_run import run_playbook
from support.clusters import private_cluster_fixture
from support.collection import REPO_ROOT

# Rotation changes the passwords of the cluster-wide sensa_app_* roles: a cluster of its own.
pg_server = private_cluster_fixture()

ROLES_SQL = """
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sensa_migrator') THEN CREATE ROLE sensa_migrator NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sensa_app') THEN CREATE ROLE sensa_app NOLOGIN; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sensa_app_a') THEN CREATE ROLE sensa_app_a LOGIN IN ROLE sensa_app; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sensa_app_b') THEN CREATE ROLE sensa_app_b LOGIN IN ROLE sensa_app; END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sensa_report') THEN CREATE ROLE sensa_report LOGIN; END IF;
END $$;
ALTER ROLE sensa_app_a PASSWORD NULL VALID UNTIL 'infinity';
ALTER ROLE sensa_app_b PASSWORD NULL VALID UNTIL 'infinity';
ALTER ROLE sensa_report PASSWORD NULL VALID UNTIL 'infinity';
"""

SCHEMA_SQL = """
GRANT CONNECT ON DATABASE "{db}" TO sensa_app, sensa_report;
GRANT USAGE, CREATE ON SCHEMA public TO sensa_migrator;
SET ROLE sensa_migrator;
CREATE FUNCTION public.set_current_user_id(user_id uuid, is_local boolean DEFAULT true) RETURNS void
  LANGUAGE sql SET search_path = pg_catalog
  AS $f$ SELECT set_config('sensa.current_user_id', COALESCE(user_id::text, ''), is_local) $f$;
CREATE FUNCTION public.current_user_id() RETURNS uuid LANGUAGE sql STABLE SET search_path = pg_catalog
  AS $f$ SELECT NULLIF(current_setting('sensa.current_user_id', true), '')::uuid $f$;
CREATE TABLE public.courses (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), user_id uuid NOT NULL, title text NOT NULL);
INSERT INTO public.courses (user_id, title)
  SELECT '11111111-1111-1111-1111-111111111111', 'course ' || g FROM generate_series(1, 3) g;
INSERT INTO public.courses (user_id, title)
  SELECT '22222222-2222-2222-2222-222222222222', 'course ' || g FROM generate_series(1, 5) g;
ALTER TABLE public.courses ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.courses FORCE ROW LEVEL SECURITY;
CREATE POLICY courses_owner ON public.courses TO PUBLIC
  USING (user_id = public.current_user_id()) WITH CHECK (user_id = public.current_user_id());
RESET ROLE;
REVOKE ALL ON FUNCTION public.set_current_user_id(uuid, boolean), public.current_user_id() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.set_current_user_id(uuid, boolean), public.current_user_id() TO sensa_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON public.courses TO sensa_app;
"""

USER_1 = "11111111-1111-1111-1111-111111111111"


@pytest.fixture
def app_db(pg_db):
    pg_db.psql(ROLES_SQL)
    pg_db.psql(SCHEMA_SQL.format(db=pg_db.name))
    return pg_db


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory):
    """moto_server on 127.0.0.1 as the Secrets Manager endpoint; dummy credentials via the environment."""
    proc, endpoint = moto_server.start(str(tmp_path_factory.mktemp("moto") / "moto.log"))
    old = {k: os.environ.get(k) for k in AWS_ENV}
    os.environ.update(AWS_ENV)
    try:
        yield endpoint
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        moto_server.stop(proc)


AWS_ENV = moto_server.AWS_TEST_ENV


class Rotation:
    """One database + one secret store + an inventory, and helpers to run the playbook and inspect state."""

    def __init__(self, db, tmp_path, backend, moto_endpoint=None):
        from ansible_collections.sensa.infra.plugins.module_utils import secret_store

        self.db = db
        self.backend = backend
        self.tmp_path = tmp_path
        self.secret_file = str(tmp_path / "secrets" / "app.json")
        self.secret_id = "sensa/test/%s/app" % uuid.uuid4().hex[:8]
        self.endpoint = moto_endpoint
        host = {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "sensa_db_login": db.login,
            "pg_rotation_secret_host": "127.0.0.1",
            "pg_rotation_secret_port": db.cluster.port,
            "pg_rotation_secret_dbname": db.name,
            "pg_rotation_secrets_dir": str(tmp_path / "secrets"),
            "pg_rotation_app_secret_file": self.secret_file,
            "pg_rotation_probe_retries": 1,
        }
        if backend == "secretsmanager":
            host.update(pg_rotation_store="secretsmanager", pg_rotation_app_secret_id=self.secret_id,
                        pg_rotation_aws={"endpoint_url": moto_endpoint, "region": "eu-west-1"})
            self.store = secret_store.SecretsManagerStore(self.secret_id, endpoint_url=moto_endpoint, region="eu-west-1")
        else:
            self.store = secret_store.FileSecretStore(self.secret_file)
        self.inventory = str(tmp_path / "inventory.yml")
        with open(self.inventory, "w") as handle:
            yaml.safe_dump({"all": {"children": {"sensa_databases": {"hosts": {"testdb": host}}}}}, handle)

    def run(self, check=False, verbosity=0, crash_after=None, **extra_vars):
        """The rotation playbook; ``crash_after`` (a task name's start) kills the run right after that
        task (tests/callback_plugins/crash_after_task.py), a fault injected from outside the role."""
        env = dict(AWS_ENV) if self.backend == "secretsmanager" else {}
        if crash_after:
            env.update(ANSIBLE_CALLBACK_PLUGINS=os.path.join(REPO_ROOT, "tests", "callback_plugins"),
                       ANSIBLE_CALLBACKS_ENABLED="crash_after_task", SENSA_CRASH_AFTER_TASK=crash_after)
        return run_playbook(os.path.join(REPO_ROOT, "playbooks", "rotate_credentials.yml"), inventory=self.inventory,
                            extra_vars=extra_vars or None, check=check, verbosity=verbosity, env=env)

    def secret(self, stage="AWSCURRENT"):
        return self.store.get(stage)[1]

    def labels(self):
        return {vid: sorted(info["stages"]) for vid, info in self.store.describe().items()}

    def can_login(self, value):
        import psycopg2

        try:
            conn = psycopg2.connect(host=value["host"], port=value["port"], dbname=value["dbname"],
                                    user=value["username"], password=value["password"], connect_timeout=5)
        except psycopg2.OperationalError:
            return False
        with conn, conn.cursor() as cur:
            cur.execute("SELECT set_current_user_id(%s)", (USER_1,))
            cur.execute("SELECT count(*) FROM courses")
            count = cur.fetchone()[0]
        conn.close()
        assert count == 3, "RLS must show only the rows of the current user"
        return True

    def can_login_plain(self, value):
        """Whether ``value``'s credentials log in at all (no RLS check: for users the test schema does not grant)."""
        import psycopg2

        try:
            psycopg2.connect(host=value["host"], port=value["port"], dbname=value["dbname"], user=value["username"],
                             password=value["password"], connect_timeout=5).close()
        except psycopg2.OperationalError:
            return False
        return True


@pytest.fixture(params=["file", "secretsmanager"])
def rotation(request, app_db, tmp_path):
    endpoint = request.getfixturevalue("moto_endpoint") if request.param == "secretsmanager" else None
    return Rotation(app_db, tmp_path, request.param, endpoint)


@pytest.fixture
def file_rotation(app_db, tmp_path):
    return Rotation(app_db, tmp_path, "file")


def dump(obj):
    return json.dumps(obj, indent=2, sort_keys=True)
