import pytest
from restore_helpers import archiving_source, deploy_and_seed


@pytest.fixture(scope="module")
def source(pg_engine):
    """(cluster, archive_dir, inventory): one seeded, archiving source per test module."""
    with archiving_source(pg_engine) as (cluster, archive, work):
        inventory = deploy_and_seed(cluster, work)
        yield cluster, archive, inventory
