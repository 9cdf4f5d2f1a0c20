"""Shared plumbing of the benchmark harness: where the database is, how to reach it as each
role, and the access set-up the benchmark needs.

Not a test module and not part of the collection: bench/ is run by hand (see bench/README.md)
and by the smoke test in tests/integration/bench.
"""

import json
import os
import platform
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
RESULTS_DIR = os.path.join(HERE, "results")
DEFAULT_LOCAL_DIR = os.path.join(REPO, ".local", "bench")

# The committed collections/ link makes the checkout importable as sensa.infra; bench/ imports nothing from tests/.
if os.path.join(REPO, "collections") not in sys.path:
    sys.path.insert(0, os.path.join(REPO, "collections"))

from ansible_collections.sensa.infra.plugins.module_utils import pg_cluster  # noqa: E402

APP_GROUP = "sensa_app"
APP_LOGIN = "sensa_app_a"
GROUP_ROLES = ("sensa_migrator", "sensa_app", "sensa_admin", "sensa_readonly")
DATABASE = "sensa"


class Target:
    """How to reach one database: a pg_cluster.Cluster (unix socket, trusted) and a db name."""

    def __init__(self, cluster, dbname=DATABASE, app_role=APP_LOGIN):
        self.cluster = cluster
        self.dbname = dbname
        self.app_role = app_role

    def connect(self, user=None, autocommit=True, options=None):
        import psycopg2

        params = self.cluster.conninfo(self.dbname, user=user)
        if options:
            params["options"] = options
        conn = psycopg2.connect(application_name="sensa.bench", **params)
        conn.autocommit = autocommit
        return conn

    def superuser(self, **kwargs):
        return self.connect(user=None, **kwargs)

    def app(self, **kwargs):
        return self.connect(user=self.app_role, **kwargs)


def local_cluster(local_dir):
    """The cluster site.yml started for inventories/local with sensa_local_dir=local_dir."""
    base = os.path.join(local_dir, "pg", "local")
    if not os.path.isfile(os.path.join(base, "cluster.json")):
        raise SystemExit("no local cluster under %s: run site.yml first (bench/run.py --deploy does)" % base)
    cluster = pg_cluster.Cluster(base)
    if not cluster.running():
        cluster.start()
    return cluster


def run_site(local_dir, extra_vars=None, log_path=None):
    """Run `ansible-playbook site.yml -i inventories/local` with sensa_local_dir=local_dir.

    Returns (wall seconds, {role: seconds}) from the ansible.posix.profile_roles callback."""
    extra = {"sensa_local_dir": local_dir}
    extra.update(extra_vars or {})
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO, "ansible.cfg"),
               ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_roles", ANSIBLE_NOCOLOR="1")
    playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    start = time.perf_counter()
    proc = subprocess.run([playbook, "site.yml", "-i", "inventories/local", "-e", json.dumps(extra)],
                          cwd=REPO, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if log_path:
        with open(log_path, "w") as handle:
            handle.write(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise SystemExit("site.yml failed (exit %d); log: %s\n%s" % (proc.returncode, log_path, proc.stdout[-3000:]))
    roles = {}
    recap = proc.stdout.split("ROLES RECAP", 1)[-1]
    for match in re.finditer(r"^(\S+) -+ ([0-9.]+)s$", recap, re.M):
        roles[match.group(1)] = float(match.group(2))
    return wall, roles


def ensure_access(target, login=APP_LOGIN):
    """Make sure the application LOGIN role exists with the application grants.

    The pg_access stage (roles.yml before the migrations, main after them) owns this in a
    real deployment. Until playbooks/database.yml runs it, or when the smoke test uses a
    scratch database, we create the same shape here: the group roles (only when missing,
    never dropped: roles are cluster-wide), the LOGIN member, and the grants pg_access
    gives sensa_app (DML on the application tables, none on the internal bookkeeping
    relations; EXECUTE on functions stays PUBLIC's default). Returns what it did.
    """
    conn = target.superuser()
    did = []
    with conn.cursor() as cur:
        for role in GROUP_ROLES:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
            if not cur.fetchone():
                cur.execute('CREATE ROLE "%s" NOLOGIN NOSUPERUSER NOBYPASSRLS' % role)
                did.append("created group role %s" % role)
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,))
        if not cur.fetchone():
            cur.execute('CREATE ROLE "%s" LOGIN NOSUPERUSER NOBYPASSRLS IN ROLE %s' % (login, APP_GROUP))
            did.append("created login role %s" % login)
        cur.execute("SELECT to_regclass('public.courses') IS NULL OR has_table_privilege(%s, 'public.courses', 'SELECT')",
                    (APP_GROUP,))
        if not cur.fetchone()[0]:
            cur.execute(
                "GRANT USAGE ON SCHEMA public TO sensa_app, sensa_readonly;"
                "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO sensa_app;"
                "REVOKE ALL ON public.audit_log, public.migrations_log, public.migrations_state FROM sensa_app;"
                "GRANT SELECT ON ALL TABLES IN SCHEMA public TO sensa_readonly;"
            )
            did.append("granted the pg_access application grants (pg_access stage not run on this database)")
        cur.execute("GRANT CONNECT ON DATABASE \"%s\" TO sensa_app" % target.dbname)
    conn.close()
    return did


def machine():
    """A short description of the machine the numbers come from."""
    info = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as handle:
            info["mem_gib"] = round(int(handle.readline().split()[1]) / 1024 / 1024, 1)
        info["loadavg_at_start"] = os.getloadavg()
    except OSError:
        pass
    return info


def server_info(target):
    conn = target.superuser()
    with conn.cursor() as cur:
        cur.execute("SELECT current_setting('server_version'), "
                    "(SELECT extversion FROM pg_extension WHERE extname = 'vector'), "
                    "(SELECT extversion FROM pg_extension WHERE extname = 'pg_trgm'), "
                    "current_setting('shared_buffers'), current_setting('work_mem'), "
                    "current_setting('effective_cache_size'), current_setting('max_parallel_workers_per_gather'), "
                    "current_setting('jit')")
        row = cur.fetchone()
    conn.close()
    keys = ("server_version", "pgvector", "pg_trgm", "shared_buffers", "work_mem", "effective_cache_size",
            "max_parallel_workers_per_gather", "jit")
    info = dict(zip(keys, row))
    info["engine"] = target.cluster.engine
    return info


class MemorySampler:
    """Peak memory of this process (the loader) and of one PostgreSQL server, sampled from /proc.

    A daemon thread reads, every ``interval`` seconds, this process's VmRSS and, for the
    postmaster of ``datadir`` and every process whose parent it is (backends, parallel
    workers, checkpointer, ...), RSS and PSS from /proc/<pid>/smaps_rollup. The sum of RSS
    counts each shared page (shared_buffers, the dynamic shared memory of a parallel index
    build) once per process that touched it, so it overstates; the sum of PSS divides each
    shared page among its users, so it is the server's real footprint. Both peaks are
    reported, with the peak number of server processes and of parallel workers seen.
    Linux only; elsewhere ``peaks()`` says it could not sample.
    """

    def __init__(self, datadir, interval=0.5):
        import threading

        self.datadir = datadir
        self.interval = interval
        self.samples = 0
        self.peak = {"loader_rss_bytes": 0, "server_rss_sum_bytes": 0, "server_pss_sum_bytes": 0,
                     "server_processes": 0, "parallel_workers": 0}
        self.error = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="memory-sampler", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        return False

    def _postmaster(self):
        with open(os.path.join(self.datadir, "postmaster.pid")) as handle:
            return int(handle.readline())

    @staticmethod
    def _status_kib(pid, key):
        with open("/proc/%d/status" % pid) as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return 0

    @staticmethod
    def _rollup_kib(pid):
        out = {}
        with open("/proc/%d/smaps_rollup" % pid) as handle:
            for line in handle:
                key = line.split(":", 1)[0]
                if key in ("Rss", "Pss"):
                    out[key] = int(line.split()[1])
        return out

    def _server_pids(self, postmaster):
        pids = [postmaster]
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % entry) as handle:
                    stat = handle.read()
            except OSError:
                continue
            # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'
            if int(stat.rsplit(")", 1)[1].split()[1]) == postmaster:
                pids.append(int(entry))
        return pids

    def sample(self):
        loader = self._status_kib(os.getpid(), "VmRSS") * 1024
        rss = pss = workers = 0
        pids = self._server_pids(self._postmaster())
        for pid in pids:
            try:
                roll = self._rollup_kib(pid)
                if pid != pids[0]:
                    with open("/proc/%d/cmdline" % pid, "rb") as handle:
                        if b"parallel worker" in handle.read():
                            workers += 1
            except OSError:  # the process ended between listing and reading
                continue
            rss += roll.get("Rss", 0) * 1024
            pss += roll.get("Pss", 0) * 1024
        now = {"loader_rss_bytes": loader, "server_rss_sum_bytes": rss, "server_pss_sum_bytes": pss,
               "server_processes": len(pids), "parallel_workers": workers}
        for key, value in now.items():
            self.peak[key] = max(self.peak[key], value)
        self.samples += 1

    def _loop(self):
        while not self._stop.is_set():
            try:
                self.sample()
            except (OSError, ValueError) as exc:
                self.error = "%s: %s" % (type(exc).__name__, exc)
                return
            self._stop.wait(self.interval)

    def peaks(self):
        out = dict(self.peak, samples=self.samples, interval_s=self.interval)
        for key in ("loader_rss_bytes", "server_rss_sum_bytes", "server_pss_sum_bytes"):
            out[key.replace("_bytes", "_gib")] = round(self.peak[key] / 2 ** 30, 3)
        if self.error:
            out["error"] = self.error
        return out
