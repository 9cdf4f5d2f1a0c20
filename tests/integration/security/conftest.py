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


class DeployedDatabase(Database):
    """The database playbooks/database.yml deployed, with the world seeded into it (``world``)."""

    def __init__(self, cluster, name, superuser_password):
        super().__init__(cluster, name, superuser_password)
        self.world = seed_world(self)


@pytest.fixture(scope="session")
def deployed(pg_server, tmp_path_factory):
    deploy(pg_server, tmp_path_factory.mktemp("security"))
    return DeployedDatabase(pg_server, DATABASE, pg_server.superuser_password)


@pytest.fixture
def world(deployed):
    return deployed.world
