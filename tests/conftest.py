"""Fixtures shared by unit and integration tests.

Integration tests get a real PostgreSQL server from plugins/module_utils/pg_cluster.py:
one throwaway cluster per test session (engine from SENSA_PG_ENGINE, default
``embedded``), a fresh database per test, everything stopped and removed at the end,
also when a test fails.
"""

import os
import secrets
import shutil
import tempfile
import uuid

import pytest

from support.collection import REPO_ROOT, ensure_collection_link

ensure_collection_link()

from ansible_collections.sensa.infra.plugins.module_utils import pg_cluster  # noqa: E402


class Database:
    """A fresh database on the session cluster, with the ways tests reach it."""

    def __init__(self, cluster, name, superuser_password):
        self.cluster = cluster
        self.name = name
        self.superuser_password = superuser_password

    def conninfo(self, user=None, password=None, tcp=False):
        return self.cluster.conninfo(self.name, user=user, password=password, tcp=tcp)

    def connect(self, user=None, password=None, tcp=False, autocommit=True):
        import psycopg2

        conn = psycopg2.connect(**self.conninfo(user=user, password=password, tcp=tcp))
        conn.autocommit = autocommit
        return conn

    def psql(self, sql, check=True):
        return self.cluster.psql(sql, dbname=self.name, check=check)

    def query(self, sql, params=None):
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall() if cur.description else []
        conn.close()
        return rows

    def scalar(self, sql, params=None):
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    @property
    def login(self):
        """Connection options for our modules (unix socket, trusted superuser)."""
        return {
            "login_unix_socket": self.cluster.socket_dir,
            "login_port": self.cluster.port,
            "login_user": self.cluster.superuser,
            "login_db": self.name,
        }

    def pg_dump_schema(self):
        import subprocess

        out = subprocess.run(
            [os.path.join(self.cluster.bindir, "pg_dump"), "--schema-only", "--no-owner", "--no-privileges",
             "-h", self.cluster.socket_dir, "-p", str(self.cluster.port), "-U", self.cluster.superuser, self.name],
            capture_output=True, text=True, check=True,
        ).stdout
        # pg_dump >= 17 prints a random \restrict key per run; it is not schema.
        return "\n".join(line for line in out.splitlines() if not line.startswith(("\\restrict", "\\unrestrict")))


@pytest.fixture(scope="session")
def pg_engine():
    engine = pg_cluster.default_engine()
    reason = pg_cluster.engine_unavailable_reason(engine)
    if reason:
        pytest.fail("SENSA_PG_ENGINE=%s cannot run here: %s" % (engine, reason))
    return engine


@pytest.fixture(scope="session")
def pg_server(pg_engine, tmp_path_factory):
    base = tempfile.mkdtemp(prefix="sensa-pg-")
    cluster = pg_cluster.Cluster(os.path.join(base, "cluster"), engine=pg_engine)
    password = secrets.token_urlsafe(18)
    cluster.init(superuser_password=password)
    cluster.start()
    cluster.superuser_password = password
    try:
        yield cluster
    finally:
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_db(pg_server):
    name = "t_" + uuid.uuid4().hex[:12]
    pg_server.create_database(name)
    try:
        yield Database(pg_server, name, pg_server.superuser_password)
    finally:
        pg_server.drop_database(name)


@pytest.fixture(scope="session")
def repo_root():
    return REPO_ROOT
