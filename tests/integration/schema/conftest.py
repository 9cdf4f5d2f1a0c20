"""Fixtures for the schema tests: roles, a migrated database, a small data set.

Roles are cluster-wide and other tests may share the cluster, so the group roles named
by the design (sensa_migrator, sensa_app, sensa_admin, sensa_readonly) are created only
when missing and never dropped; the LOGIN members used here get unique names.
"""

import uuid

import pytest
from sensa_schema_helpers import GRANTS, GROUP_ROLES, Roles, SchemaDatabase, prepare_database, seed

from support.database import Database
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


@pytest.fixture(scope="session")
def schema_template(pg_server, roles):  # noqa: ARG001 - roles creates sensa_migrator, which the migrations run as
    """One database migrated as sensa_migrator (which then owns everything) with the grants
    the access stage gives; every app_db is a copy of it (much faster than migrating each)."""
    name = "tpl_schema_" + uuid.uuid4().hex[:8]
    pg_server.create_database(name)
    db = Database(pg_server, name, pg_server.superuser_password)
    prepare_database(db)
    apply_schema(db, role="sensa_migrator")
    db.psql(GRANTS)
    try:
        yield name
    finally:
        pg_server.drop_database(name)


@pytest.fixture
def app_db(pg_server, schema_template, roles):
    """A fresh copy of the migrated template database."""
    name = "t_" + uuid.uuid4().hex[:12]
    pg_server.create_database(name, template=schema_template)
    db = SchemaDatabase(pg_server, name, pg_server.superuser_password, roles)
    try:
        yield db
    finally:
        pg_server.drop_database(name)


@pytest.fixture
def data(app_db):
    return seed(app_db)


@pytest.fixture(scope="module")
def shared_db(pg_server, schema_template, roles):
    """One migrated copy per test module, seeded with the data set. Tests that use it work
    inside transactions they roll back (helpers ``session`` and ``superuser``), so they do
    not see each other's changes."""
    name = "t_" + uuid.uuid4().hex[:12]
    pg_server.create_database(name, template=schema_template)
    db = SchemaDatabase(pg_server, name, pg_server.superuser_password, roles).seeded()
    try:
        yield db
    finally:
        pg_server.drop_database(name)
