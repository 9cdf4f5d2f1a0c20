"""Fixtures of the adversarial suite: a cluster of its own (the suite changes cluster-wide
state: role passwords, database privileges, server logging), one database deployed by the
real playbooks/database.yml and seeded once; tests work in transactions they roll back."""

import pytest
from security_helpers import DATABASE, deploy, seed_world

from support.clusters import throwaway_cluster
from support.database import Database


@pytest.fixture(scope="session")
def pg_server(pg_engine):
    with throwaway_cluster(pg_engine, prefix="sensa-pg-security-") as cluster:
        yield cluster


@pytest.fixture(scope="session")
def deployed(pg_server, tmp_path_factory):
    deploy(pg_server, tmp_path_factory.mktemp("security"))
    db = Database(pg_server, DATABASE, pg_server.superuser_password)
    db.world = seed_world(db)
    return db


@pytest.fixture
def world(deployed):
    return deployed.world
