"""A migrated Sensa database for the maintenance and pooler suites (issue 17).

The suites create the cluster-wide sensa_* group roles, so each runs on a private cluster
(support.clusters.private_cluster_fixture). The schema is applied once through pg_migrate's
engine as sensa_migrator, with the grants the access stage gives the application group;
tests work on copies (CREATE DATABASE ... TEMPLATE).
"""

import json
import os
import uuid

from support.collection import REPO_ROOT
from support.database import Database
from support.schema import MIGRATIONS_DIR

ROLES_SQL = "".join(
    "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '%s') THEN "
    "CREATE ROLE %s NOLOGIN NOSUPERUSER NOBYPASSRLS; END IF; END $$;\n" % (name, name)
    for name in ("sensa_migrator", "sensa_app", "sensa_admin", "sensa_readonly")
)

PREPARE_SQL = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'uuid-ossp') THEN
    CREATE EXTENSION IF NOT EXISTS "uuid-ossp"; END IF;
END $$;
GRANT CREATE ON SCHEMA public TO sensa_migrator;
"""

GRANTS_SQL = """
GRANT USAGE ON SCHEMA public TO sensa_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO sensa_app;
REVOKE ALL ON public.migrations_log FROM sensa_app;
"""


def migrated_template(cluster):
    """Create and migrate a template database; returns its name."""
    name = "maint_tpl_" + uuid.uuid4().hex[:8]
    cluster.psql(ROLES_SQL)
    cluster.create_database(name)
    db = Database(cluster, name, cluster.superuser_password)
    db.psql(PREPARE_SQL)
    apply_migrations(db, MIGRATIONS_DIR)
    db.psql(GRANTS_SQL)
    return name


def apply_migrations(db, path):
    """Every migration in ``path`` through pg_migrate's engine as sensa_migrator (these suites
    only ever apply, so rollback files are not required). Raises MigrationError on a failure."""
    import psycopg2

    from ansible_collections.sensa.infra.plugins.module_utils.migration_files import discover
    from ansible_collections.sensa.infra.plugins.module_utils.migration_runner import Runner, RunOptions

    def connect(autocommit):
        conn = psycopg2.connect(application_name="sensa.pg_migrate", **db.conninfo())
        conn.autocommit = autocommit
        return conn

    options = RunOptions(session_role="sensa_migrator", controller_user="pytest")
    return Runner(connect, discover(path, require_rollback=False), options).run("applied")


def copy_of(cluster, template):
    """The name of a new database copied from ``template``."""
    name = "maint_" + uuid.uuid4().hex[:10]
    cluster.create_database(name, template=template)
    return name


def write_inventory(db, directory, host="maint_db", **hostvars):
    path = os.path.join(str(directory), "hosts-%s.yml" % db.name)
    values = {
        "ansible_connection": "local",
        "ansible_python_interpreter": os.path.join(REPO_ROOT, ".venv", "bin", "python"),
        "sensa_db_login": db.login,
    }
    values.update(hostvars)
    with open(path, "w") as handle:
        json.dump({"all": {"children": {"sensa_databases": {"hosts": {host: values}}}}}, handle)
    return path
