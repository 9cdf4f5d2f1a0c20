# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PgBouncer in front of a local cluster (plugins/module_utils/pg_cluster.py), in transaction mode.

The pooler lives in ``<cluster>/pgbouncer/`` (its ini, log, pid file and socket), listens on
127.0.0.1 and on a unix socket there, and reaches the cluster over the cluster's own unix
socket, which trusts local connections - so PgBouncer holds no server password at all.

Clients authenticate to PgBouncer with SCRAM-SHA-256 against the verifier PostgreSQL already
stores: PgBouncer looks it up with ``auth_query`` (``pg_shadow``) as ``auth_user`` (the
cluster's superuser, trusted on the socket). ``userlist.txt`` therefore lists no one and no
secret is written anywhere. Superusers and roles without a password cannot log in through
the pooler.

Session state does not survive a transaction in transaction mode: applications must set
their user context per transaction (``set_current_user_id(id)``, transaction-local), and
session-level features (advisory locks held across transactions, ``SET`` without ``LOCAL``,
``LISTEN``) must not go through it. pg_migrate's advisory lock is one of them: migrations
keep using the direct socket.

Only the standard library is used, as in pg_cluster.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import signal
import subprocess

from ansible_collections.sensa.infra.plugins.module_utils.pg_cluster import (
    Cluster,
    ClusterError,
    _service_account,
    free_port,
    log_tail,
    read_state,
    wait_for,
    write_state,
)

PGBOUNCER_CANDIDATES = ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer")
STATE_FILE = "pooler.json"
# Superusers are not served: the pooler is the application's path, not an administrator's.
AUTH_QUERY = "SELECT usename, passwd FROM pg_catalog.pg_shadow WHERE usename = $1 AND NOT usesuper"


def pgbouncer_binary():
    """Path of the pgbouncer executable, or raise with how to install it."""
    found = shutil.which("pgbouncer")
    if found:
        return found
    for candidate in PGBOUNCER_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    raise ClusterError("pgbouncer is not installed on this machine; install the Debian package pgbouncer "
                       "(scripts/install-pgbouncer.sh does, as root)")


class Pooler:
    """The PgBouncer of the cluster at ``cluster_base``."""

    def __init__(self, cluster_base, port=None, pool_size=10, max_client_conn=200):
        self.cluster = Cluster(cluster_base)
        self.dir = os.path.join(self.cluster.base, "pgbouncer")
        state = read_state(self.dir, STATE_FILE)
        self.port = int(port or state.get("port") or 0) or None
        self.pool_size = int(pool_size)
        self.max_client_conn = int(max_client_conn)

    @property
    def ini(self):
        return os.path.join(self.dir, "pgbouncer.ini")

    @property
    def pidfile(self):
        return os.path.join(self.dir, "pgbouncer.pid")

    @property
    def logfile(self):
        return os.path.join(self.dir, "pgbouncer.log")

    def pid(self):
        try:
            with open(self.pidfile) as handle:
                pid = int(handle.read().strip())
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid

    def running(self):
        return self.pid() is not None

    def config_text(self):
        socket_dir = self.cluster.socket_dir
        lines = [
            "; Written by sensa.infra.pg_local_pooler; regenerated on every start.",
            "[databases]",
            "* = host=%s port=%d" % (socket_dir, self.cluster.port),
            "",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            "listen_port = %d" % self.port,
            "unix_socket_dir = %s" % self.dir,
            "unix_socket_mode = 0700",
            "pool_mode = transaction",
            "auth_type = scram-sha-256",
            "auth_file = %s" % os.path.join(self.dir, "userlist.txt"),
            "auth_user = %s" % self.cluster.superuser,
            "auth_query = %s" % AUTH_QUERY,
            "default_pool_size = %d" % self.pool_size,
            "max_client_conn = %d" % self.max_client_conn,
            "ignore_startup_parameters = extra_float_digits",
            # Defence in depth: reset every server connection after every transaction, so even
            # a session-level SET (not only a forgotten set_current_user_id) never reaches
            # the next client. Costs one DISCARD ALL per transaction.
            "server_reset_query = DISCARD ALL",
            "server_reset_query_always = 1",
            "logfile = %s" % self.logfile,
            "pidfile = %s" % self.pidfile,
            "",
        ]
        return "\n".join(lines)

    def _prepare(self):
        uid, gid = _service_account()
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        os.chmod(self.dir, 0o700)
        files = {self.ini: self.config_text(),
                 os.path.join(self.dir, "userlist.txt"): "; no one: passwords are looked up with auth_query\n"}
        for path, text in files.items():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
        write_state(self.dir, STATE_FILE, {"port": self.port})
        if os.geteuid() == 0:
            for path in [self.dir] + [os.path.join(self.dir, n) for n in os.listdir(self.dir)]:
                os.chown(path, uid, gid)

    def start(self):
        """Start PgBouncer if it is not running; True when it was started. The cluster must be running."""
        if self.running():
            return False
        if not self.cluster.running():
            raise ClusterError("the cluster at %s is not running; start it before its pooler" % self.cluster.base)
        binary = pgbouncer_binary()
        if not self.port:
            self.port = free_port()
        self._prepare()
        uid, gid = _service_account()
        kwargs = {}
        if os.geteuid() == 0:
            kwargs.update(user=uid, group=gid, extra_groups=[])
        result = subprocess.run([binary, "-d", "-q", self.ini], cwd=self.dir, capture_output=True, text=True,
                                check=False, **kwargs)
        if result.returncode != 0 or not wait_for(self.running, 15):
            raise ClusterError("could not start pgbouncer on 127.0.0.1:%s: %s\n%s"
                               % (self.port, result.stderr.strip(), self.log_tail()))
        if not wait_for(lambda: os.path.exists(os.path.join(self.dir, ".s.PGSQL.%d" % self.port)), 15):
            raise ClusterError("pgbouncer started but does not listen:\n%s" % self.log_tail())
        return True

    def stop(self):
        """Stop PgBouncer if it runs; True when it was stopped."""
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)  # immediate shutdown: clients are disconnected
        if not wait_for(lambda: not self.running(), 15):
            os.kill(pid, signal.SIGKILL)
            wait_for(lambda: not self.running(), 5)
        return True

    def log_tail(self, lines=20):
        return log_tail(self.logfile, lines)
