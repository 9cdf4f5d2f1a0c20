"""Interleaved users through PgBouncer in transaction mode (Debian's `pgbouncer`, started here on
127.0.0.1 with one server connection, so every client's transactions run on the same backend).

The issue's finding: after set_current_user_id(B, false) behind such a pooler, 18 of 18 other
clients' transactions ran as B. Now the session-level form is refused to application roles,
every transaction sees only the user it names (or nothing), and the recommended
server_reset_query_always = 1 also clears a raw session-level SET that the application login
could still write (the trust boundary of docs/access.md)."""

import os
import pathlib
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import psycopg2
import pytest
from security_helpers import APP_LOGIN

from ansible_collections.sensa.infra.plugins.module_utils.pg_cluster import free_port
from ansible_collections.sensa.infra.plugins.module_utils.scram import build_verifier

PGBOUNCER = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if os.path.exists("/usr/sbin/pgbouncer") else None)
CLIENTS = 6
ROUNDS = 15

pytestmark = pytest.mark.skipif(
    PGBOUNCER is None,
    reason="not run, because pgbouncer is not installed (scripts/install-pgbouncer.sh installs Debian's package)")


@pytest.fixture(scope="module")
def pooler(deployed):
    # Under /tmp (not pytest's 0700 tree): pgbouncer runs as the cluster's service account.
    work = pathlib.Path(tempfile.mkdtemp(prefix="sensa-pgbouncer-"))
    password = secrets.token_urlsafe(18)
    # The server keeps only a SCRAM verifier (computed here); the pooler's user list, 0600 in the
    # test's own directory, holds the password it logs in with.
    conn = deployed.connect()
    with conn.cursor() as cur:
        cur.execute("ALTER ROLE %s PASSWORD %%s" % APP_LOGIN, (build_verifier(password),))
    conn.close()
    userlist = work / "userlist.txt"
    userlist.write_text('"%s" "%s"\n' % (APP_LOGIN, password))
    os.chmod(str(userlist), 0o600)
    port = free_port()
    ini = work / "pgbouncer.ini"
    ini.write_text("""[databases]
%(db)s = host=127.0.0.1 port=%(pgport)d dbname=%(db)s
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %(port)d
unix_socket_dir =
auth_type = scram-sha-256
auth_file = %(userlist)s
pool_mode = transaction
default_pool_size = 1
max_client_conn = 50
server_reset_query_always = %(reset)s
logfile = %(log)s
pidfile = %(pid)s
""" % {"db": deployed.name, "pgport": deployed.cluster.port, "port": port, "userlist": userlist,
       "log": work / "pgbouncer.log", "pid": work / "pgbouncer.pid", "reset": 1})
    user = {}
    if os.geteuid() == 0:
        # pgbouncer refuses to run as root: the cluster's own service account owns the files.
        import pwd

        account = pwd.getpwnam(_service_account(deployed))
        for path in (work, userlist, ini):
            os.chown(str(path), account.pw_uid, account.pw_gid)
        user = dict(user=account.pw_uid, group=account.pw_gid)
    proc = subprocess.Popen([PGBOUNCER, str(ini)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **user)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("pgbouncer exited: %s" % proc.stderr.read().decode(errors="replace"))
            time.sleep(0.1)
    try:
        yield dict(host="127.0.0.1", port=port, dbname=deployed.name, user=APP_LOGIN, password=password,
                   sslmode="disable")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(str(work), ignore_errors=True)


def _service_account(db):
    """The OS user the cluster runs as (owner of its data directory)."""
    import pwd

    return pwd.getpwuid(os.stat(db.cluster.datadir).st_uid).pw_name


def _client(pooler, user_id, others, errors, seen):
    conn = psycopg2.connect(**pooler)
    try:
        cur = conn.cursor()
        # The pooled session-level form is refused (and rolled back with its transaction).
        try:
            cur.execute("SELECT set_current_user_id(%s, false)", (user_id,))
            errors.append("set_current_user_id(..., false) was accepted")
        except psycopg2.errors.InsufficientPrivilege:
            pass
        conn.rollback()
        for _round in range(ROUNDS):
            cur.execute("SELECT set_current_user_id(%s)", (user_id,))
            cur.execute("SELECT DISTINCT owner_id::text FROM courses")
            owners = {r[0] for r in cur.fetchall()}
            conn.commit()
            if owners - {user_id}:
                errors.append("a transaction of %s saw courses of %s" % (user_id, owners - {user_id}))
            # the next transaction, with no context, sees nothing (whatever ran on the backend before)
            cur.execute("SELECT count(*) FROM courses")
            count = cur.fetchone()[0]
            conn.commit()
            if count:
                errors.append("a transaction without context saw %d courses" % count)
            # the raw session-level SET the login could still write is reset after the transaction
            cur.execute("SET sensa.current_user_id = '%s'" % others[0])
            conn.commit()
            seen.append(1)
    except Exception as exc:  # noqa: BLE001 - reported by the test
        errors.append(repr(exc))
    finally:
        conn.close()


def test_interleaved_users_through_a_transaction_pooler(deployed, pooler):
    w = deployed.world
    users = [w.users["a"], w.users["b"]]
    errors, seen = [], []
    threads = [threading.Thread(target=_client, args=(pooler, users[i % 2], [users[(i + 1) % 2]], errors, seen))
               for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [], errors[:5]
    assert len(seen) == CLIENTS * ROUNDS
    print("\npgbouncer: %d clients x %d rounds over one server connection" % (CLIENTS, ROUNDS))
