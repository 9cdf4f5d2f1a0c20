"""PgBouncer in front of the local cluster (local_postgres_pooler, issue 17) and the isolation proof.

provision.yml starts a cluster and its pooler from the local_postgres role (twice: the second
run changes nothing); the schema is migrated into it; then interleaved clients, each setting
a transaction-local user context, run thousands of transactions through the pooler with a
pool much smaller than the number of clients, and no transaction ever sees another user's
rows (or any row without a context). local_stop.yml stops the pooler with the cluster.
"""

import os
import random
import secrets
import tempfile
import threading
import time
import uuid

import psycopg2
import psycopg2.errors
import pytest
from maintenance_helpers import GRANTS_SQL, PREPARE_SQL, ROLES_SQL, apply_migrations

from support.ansible_run import run_playbook
from support.clusters import ScratchCluster
from support.collection import REPO_ROOT, ensure_collection_link
from support.database import Database
from support.schema import MIGRATIONS_DIR

ensure_collection_link()

from ansible_collections.sensa.infra.plugins.module_utils import pg_cluster, pg_pooler, scram  # noqa: E402

PROVISION = os.path.join(REPO_ROOT, "playbooks", "provision.yml")
STOP = os.path.join(REPO_ROOT, "playbooks", "local_stop.yml")
LOGIN = "maint_pool_login"
USERS = 16
COURSES_PER_USER = 3
CLIENTS = 6
POOL_SIZE = 2
TRANSACTIONS = 6000
DEADLINE_S = 300  # generous for a loaded 2-core machine; measured figures are printed

try:
    pg_pooler.pgbouncer_binary()
    NO_PGBOUNCER = None
except pg_cluster.ClusterError as exc:
    NO_PGBOUNCER = str(exc)

pytestmark = pytest.mark.skipif(NO_PGBOUNCER is not None, reason="not run, because %s" % NO_PGBOUNCER)


def write_inventory(directory, base, engine):
    import json

    path = os.path.join(directory, "hosts.yml")
    with open(path, "w") as handle:
        json.dump({"all": {"children": {"sensa_local_databases": {"hosts": {"local": {
            "ansible_connection": "local",
            "ansible_python_interpreter": os.path.join(REPO_ROOT, ".venv", "bin", "python"),
            "local_postgres_base_dir": base,
            "local_postgres_engine": engine,
            "local_postgres_database": "sensa",
            "local_postgres_pooler": True,
            "local_postgres_pooler_pool_size": POOL_SIZE,
        }}}}}}, handle)
    return path


@pytest.fixture(scope="module")
def pooled(pg_engine):
    """(cluster, pooler, database, inventory, [first, second provision runs]); stopped and removed at the end."""
    directory = tempfile.mkdtemp(prefix="sensa-pooler-")
    base = os.path.join(directory, "cluster")
    inventory = write_inventory(directory, base, pg_engine)
    runs = [run_playbook(PROVISION, inventory=inventory, timeout=300)]
    try:
        assert runs[0].returncode == 0, runs[0]
        runs.append(run_playbook(PROVISION, inventory=inventory, timeout=300))
        cluster = ScratchCluster(base)  # made by the playbook: its superuser has no password
        pooler = pg_pooler.Pooler(base)
        db = Database(cluster, "sensa", None)
        cluster.psql(ROLES_SQL)
        db.psql(PREPARE_SQL)
        apply_migrations(db, MIGRATIONS_DIR)
        db.psql(GRANTS_SQL)
        yield cluster, pooler, db, inventory, runs
    finally:
        pg_pooler.Pooler(base).stop()
        if os.path.isdir(base):
            pg_cluster.Cluster(base).destroy()
        import shutil

        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def app(pooled):
    """A login of the application group with a SCRAM verifier computed here, and seeded users with courses."""
    cluster, pooler, db, _inventory, _runs = pooled
    password = secrets.token_urlsafe(18)
    db.psql("CREATE ROLE %s LOGIN IN ROLE sensa_app PASSWORD '%s';" % (LOGIN, scram.build_verifier(password)))
    users = [str(uuid.uuid4()) for _ in range(USERS)]
    rows = []
    for n, user in enumerate(users):
        rows.append("INSERT INTO public.users (id, cognito_sub, email) VALUES ('%s', 'sub-%d', 'u%d@example.test');"
                    % (user, n, n))
        for c in range(COURSES_PER_USER):
            rows.append("INSERT INTO public.courses (owner_id, title) VALUES ('%s', 'course %d of user %d');" % (user, c, n))
    db.psql("\n".join(rows))
    return dict(password=password, users=users)


def pooled_connection(pooler, password):
    conn = psycopg2.connect(host="127.0.0.1", port=pooler.port, dbname="sensa", user=LOGIN, password=password,
                            connect_timeout=10)
    conn.autocommit = False
    return conn


def observe(cur, user):
    """One transaction's view: (leaked rows, rows seen). With ``user`` None no context is set."""
    if user is not None:
        cur.execute("SELECT public.set_current_user_id(%s)", (user,))  # transaction-local (the default)
    cur.execute("SELECT owner_id::text FROM public.courses")
    owners = [r[0] for r in cur.fetchall()]
    leaked = [o for o in owners if o != user]
    return leaked, len(owners)


def test_the_role_starts_the_pooler_and_a_second_run_changes_nothing(pooled):
    cluster, pooler, _db, _inventory, runs = pooled
    assert runs[1].returncode == 0 and runs[1].changed() == 0, runs[1]
    assert pooler.running() and cluster.running()
    assert "pool_mode = transaction" in open(pooler.ini).read()
    assert "listen_addr = 127.0.0.1" in open(pooler.ini).read()
    # No secret in any file the pooler has: the userlist lists no one.
    assert "SCRAM" not in open(os.path.join(pooler.dir, "userlist.txt")).read()
    assert oct(os.stat(pooler.dir).st_mode & 0o777) == "0o700"
    # The role also makes pg_stat_statements readable for the maintenance report (in the postgres database).
    assert cluster.psql("SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'").strip() == "1"


def test_the_pooler_refuses_wrong_passwords_and_superusers(pooled, app):
    _cluster, pooler, _db, _inventory, _runs = pooled
    with pytest.raises(psycopg2.OperationalError):
        pooled_connection(pooler, app["password"] + "x").close()
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(host="127.0.0.1", port=pooler.port, dbname="sensa", user="postgres", password="x").close()


def test_the_leak_detector_catches_a_session_level_context_on_a_shared_connection(pooled, app):
    """Control: on one server connection, a session-level SET outlives its transaction and the next
    transaction without a context sees that user's rows. This is what the pooler run must never show."""
    _cluster, _pooler, db, _inventory, _runs = pooled
    conn = psycopg2.connect(**db.conninfo(user=LOGIN))
    try:
        cur = conn.cursor()
        cur.execute("SET sensa.current_user_id = %s", (app["users"][0],))
        conn.commit()
        leaked, _seen = observe(cur, None)
        conn.rollback()
        assert leaked and set(leaked) == {app["users"][0]}
    finally:
        conn.close()


def test_interleaved_users_never_see_each_others_rows_through_the_pooler(pooled, app):
    _cluster, pooler, _db, _inventory, _runs = pooled
    per_client = TRANSACTIONS // CLIENTS
    stats = dict(done=0, leaks=[], wrong_counts=[], errors=[], no_context=0, session_sets=0)
    pids = set()
    lock = threading.Lock()
    deadline = time.monotonic() + DEADLINE_S

    def client(seed):
        rng = random.Random(seed)  # noqa: S311 - picks test users, not secrets
        conn = pooled_connection(pooler, app["password"])
        cur = conn.cursor()
        try:
            for i in range(per_client):
                if time.monotonic() > deadline:
                    return
                user = None if i % 5 == 4 else rng.choice(app["users"])
                try:
                    if user is not None and i % 7 == 3:
                        # A client that (wrongly) sets a session-level GUC: the pooler must still not hand
                        # it to another client (server_reset_query_always), so no leak may follow from it.
                        cur.execute("SET sensa.current_user_id = %s", (user,))
                        with lock:
                            stats["session_sets"] += 1
                    leaked, seen = observe(cur, user)
                    cur.execute("SELECT pg_backend_pid()")
                    pid = cur.fetchone()[0]
                    (conn.commit if i % 2 else conn.rollback)()
                except psycopg2.Error as exc:
                    conn.rollback()
                    with lock:
                        stats["errors"].append(str(exc).strip().splitlines()[0])
                    continue
                with lock:
                    stats["done"] += 1
                    pids.add(pid)
                    if user is None:
                        stats["no_context"] += 1
                    if leaked:
                        stats["leaks"].append((user, leaked[:3]))
                    expected = 0 if user is None else COURSES_PER_USER
                    if seen != expected and not leaked:
                        stats["wrong_counts"].append((user, seen))
        finally:
            conn.close()

    start = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    print("pooler proof: %d transactions by %d clients over %d server connections in %.1f s (%.0f tx/s); "
          "%d without context, %d with a session-level SET; leaks %d"
          % (stats["done"], CLIENTS, len(pids), elapsed, stats["done"] / elapsed, stats["no_context"],
             stats["session_sets"], len(stats["leaks"])))
    assert stats["errors"] == [], stats["errors"][:5]
    assert stats["leaks"] == [], stats["leaks"][:5]
    assert stats["wrong_counts"] == [], stats["wrong_counts"][:5]
    assert stats["done"] == per_client * CLIENTS, "only %d transactions within %d s" % (stats["done"], DEADLINE_S)
    # Transaction pooling really happened: six clients shared at most POOL_SIZE server connections.
    assert 1 <= len(pids) <= POOL_SIZE < CLIENTS, pids


def test_a_session_level_context_is_refused_for_the_application_role(pooled, app):
    _cluster, pooler, db, _inventory, _runs = pooled
    refuses = db.scalar("SELECT pg_get_functiondef('public.set_current_user_id(uuid, boolean)'::regprocedure) "
                        "LIKE '%refused for members of sensa_app%'")
    if not refuses:
        pytest.skip("not run, because this schema's set_current_user_id still accepts a session-level context "
                    "(the refusal comes with issue 12's privacy migration)")
    conn = pooled_connection(pooler, app["password"])
    try:
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            conn.cursor().execute("SELECT public.set_current_user_id(%s, false)", (app["users"][0],))
    finally:
        conn.close()


def test_local_stop_stops_the_pooler_with_the_cluster(pooled):
    cluster, pooler, _db, inventory, _runs = pooled
    port = pooler.port
    result = run_playbook(STOP, inventory=inventory, timeout=300)
    assert result.returncode == 0, result
    assert not pooler.running() and not cluster.running()
    again = run_playbook(STOP, inventory=inventory, timeout=300)
    assert again.returncode == 0 and again.changed() == 0, again
    # Started again (tests of this module may run in any order): same port, remembered.
    restarted = run_playbook(PROVISION, inventory=inventory, timeout=300)
    assert restarted.returncode == 0, restarted
    assert pooler.running() and pg_pooler.Pooler(cluster.base).port == port
