"""Fixtures for the schema tests: roles, a migrated database, a small data set.

Roles are cluster-wide and other tests may share the cluster, so the group roles named
by the design (sensa_migrator, sensa_app, sensa_admin, sensa_readonly) are created only
when missing and never dropped; the LOGIN members used here get unique names.
"""

import uuid

import pytest

from sensa_schema_helpers import GRANTS, GROUP_ROLES, Roles, prepare_database, seed
from support.schema import apply_schema


@pytest.fixture(scope="session")
def roles(pg_server):
    """Group roles (guarded) and unique LOGIN members: app, admin (app + sensa_admin), readonly."""
    r = Roles(uuid.uuid4().hex[:8])
    stmts = []
    for name, attrs in GROUP_ROLES.items():
        stmts.append(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '%s') THEN "
            "CREATE ROLE %s %s; END IF; END $$;" % (name, name, attrs)
        )
    stmts += [
        "CREATE ROLE %s LOGIN IN ROLE sensa_app;" % r.app,
        "CREATE ROLE %s LOGIN IN ROLE sensa_app;" % r.app_other,
        "CREATE ROLE %s LOGIN IN ROLE sensa_app, sensa_admin;" % r.admin,
        "CREATE ROLE %s LOGIN IN ROLE sensa_readonly;" % r.readonly,
    ]
    pg_server.psql("\n".join(stmts))
    return r


@pytest.fixture
def app_db(pg_db, roles):
    """A database migrated as sensa_migrator (which owns everything), with DML grants to sensa_app."""
    prepare_database(pg_db)
    apply_schema(pg_db, role="sensa_migrator")
    pg_db.psql(GRANTS)
    pg_db.roles = roles
    return pg_db


@pytest.fixture
def data(app_db):
    return seed(app_db)
