"""Throwaway PostgreSQL clusters for tests (plugins/module_utils/pg_cluster.py does the work)."""

import contextlib
import os
import secrets
import shutil
import tempfile

import pytest

from .collection import ensure_collection_link

ensure_collection_link()

from ansible_collections.sensa.infra.plugins.module_utils import pg_cluster  # noqa: E402


class ScratchCluster(pg_cluster.Cluster):
    """A test's cluster, which knows its superuser's password (set at initdb; None: unknown, e.g.
    a cluster a playbook made), for TCP logins."""

    def __init__(self, base, engine=None, superuser_password=None):
        super().__init__(base, engine=engine)
        self.superuser_password = superuser_password

    def init(self, superuser_password=None):
        return super().init(superuser_password=superuser_password or self.superuser_password)


@contextlib.contextmanager
def throwaway_cluster(engine, prefix="sensa-pg-"):
    """A started cluster with a random superuser password (for TCP); stopped and removed on exit,
    also when the body raised."""
    base = tempfile.mkdtemp(prefix=prefix)
    cluster = ScratchCluster(os.path.join(base, "cluster"), engine=engine, superuser_password=secrets.token_urlsafe(18))
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()
        shutil.rmtree(base, ignore_errors=True)


def private_cluster_fixture(scope="module"):
    """A ``pg_server`` override for suites that create, alter or drop the cluster-wide sensa_*
    roles: they get a cluster of their own instead of the session's shared one, so no other
    suite's databases or roles are disturbed. Use as ``pg_server = private_cluster_fixture()``."""

    @pytest.fixture(scope=scope, name="pg_server")
    def _private_pg_server(pg_engine):
        with throwaway_cluster(pg_engine, prefix="sensa-pg-private-") as cluster:
            yield cluster

    return _private_pg_server
