"""Fixtures shared by unit and integration tests.

Integration tests get a real PostgreSQL server from plugins/module_utils/pg_cluster.py:
one throwaway cluster per test session (engine from SENSA_PG_ENGINE, default
``embedded``), a fresh database per test, everything stopped and removed at the end,
also when a test fails.
"""

import uuid

import pytest

from support.clusters import throwaway_cluster
from support.collection import REPO_ROOT, ensure_collection_link
from support.database import Database

ensure_collection_link()

from ansible_collections.sensa.infra.plugins.module_utils import pg_cluster  # noqa: E402


@pytest.fixture(scope="session")
def pg_engine():
    engine = pg_cluster.default_engine()
    reason = pg_cluster.engine_unavailable_reason(engine)
    if reason:
        pytest.fail("SENSA_PG_ENGINE=%s cannot run here: %s" % (engine, reason))
    return engine


@pytest.fixture(scope="session")
def pg_server(pg_engine):
    with throwaway_cluster(pg_engine) as cluster:
        yield cluster


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
