"""A private database behind a bastion, built from network namespaces this suite creates.

    ctl (the controller: ansible-playbook runs here)
      |  veth, 10.214.1.0/30            no route to the vpc network
    bastion (sshd with a throwaway key; may only forward to the database)
      |  veth, 10.214.2.0/30
    vpc (PostgreSQL, listening on its vpc address only)

Every address lives on a veth link inside these namespaces only; nothing touches this
machine's own network. Names are unique per run; the namespaces (and with them the links)
and every process started in them are removed at the end, also when a test failed.
"""

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import yaml

from ansible_collections.sensa.infra.plugins.module_utils.pg_cluster import Cluster
from support.ansible_run import PlaybookResult
from support.collection import COLLECTIONS_DIR, REPO_ROOT, ensure_collection_link

CTL_ADDR, BASTION_CTL_ADDR = "10.214.1.1", "10.214.1.2"
BASTION_VPC_ADDR, DB_ADDR = "10.214.2.1", "10.214.2.2"
DB_PORT = 5432
SSHD = "/usr/sbin/sshd"
TESTS_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def unavailable_reason():
    """Why the namespace suite cannot run here (None when it can); scripts/install-netns-tools.sh installs the tools."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    for tool in ("ip", "ssh", "ssh-keygen", "ss"):
        if not shutil.which(tool):
            return "%s is missing (bash scripts/install-netns-tools.sh installs it)" % tool
    if not os.access(SSHD, os.X_OK):
        return "%s is missing (bash scripts/install-netns-tools.sh installs openssh-server)" % SSHD
    probe = "sensa-probe-%s" % uuid.uuid4().hex[:8]
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True, check=False).returncode != 0:
        return "ip netns add fails on this machine"
    subprocess.run(["ip", "netns", "delete", probe], check=False)
    return None


def sh(argv, check=True, **kwargs):
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    result = subprocess.run(argv, check=False, **kwargs)
    if check and result.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(argv), result.stderr.strip()))
    return result


class Topology:
    def __init__(self, engine):
        tag = uuid.uuid4().hex[:6]
        self.engine = engine
        self.ns = {role: "sensa-%s-%s" % (tag, role) for role in ("ctl", "bastion", "vpc")}
        # veth names: at most 15 characters
        self.links = {"ctl": "p%sc0" % tag, "bastion_ctl": "p%sb0" % tag, "bastion_vpc": "p%sb1" % tag, "vpc": "p%sv0" % tag}
        self.dir = tempfile.mkdtemp(prefix="sensa-private-path-")
        self.cluster = None
        self.sshd = None
        self.db_password = secrets.token_urlsafe(18)

    # namespaces -----------------------------------------------------------------------------
    def exec_argv(self, role, argv):
        return ["ip", "netns", "exec", self.ns[role]] + list(argv)

    def run_in(self, role, argv, check=True, **kwargs):
        return sh(self.exec_argv(role, argv), check=check, **kwargs)

    def create(self):
        for name in self.ns.values():
            sh(["ip", "netns", "add", name])
            sh(["ip", "-n", name, "link", "set", "lo", "up"])
        links = self.links
        sh(["ip", "link", "add", links["ctl"], "netns", self.ns["ctl"], "type", "veth",
            "peer", "name", links["bastion_ctl"], "netns", self.ns["bastion"]])
        sh(["ip", "link", "add", links["bastion_vpc"], "netns", self.ns["bastion"], "type", "veth",
            "peer", "name", links["vpc"], "netns", self.ns["vpc"]])
        for role, link, address in (("ctl", links["ctl"], CTL_ADDR), ("bastion", links["bastion_ctl"], BASTION_CTL_ADDR),
                                    ("bastion", links["bastion_vpc"], BASTION_VPC_ADDR), ("vpc", links["vpc"], DB_ADDR)):
            sh(["ip", "-n", self.ns[role], "addr", "add", address + "/30", "dev", link])
            sh(["ip", "-n", self.ns[role], "link", "set", link, "up"])

    def set_controller_link(self, up):
        sh(["ip", "-n", self.ns["ctl"], "link", "set", self.links["ctl"], "up" if up else "down"])

    # PostgreSQL in vpc ------------------------------------------------------------------------
    def start_database(self):
        self.cluster = Cluster(os.path.join(self.dir, "pg"), engine=self.engine, port=DB_PORT)
        self.cluster.init(superuser_password=self.db_password)
        # The database admits the bastion (as RDS's security group admits the bastion's).
        with open(os.path.join(self.cluster.datadir, "pg_hba.conf"), "a") as handle:
            handle.write("host all all %s/32 scram-sha-256\n" % BASTION_VPC_ADDR)
        # Started from inside vpc, so the server (which daemonizes) lives in that namespace.
        code = ("import sys; sys.path[:0] = [%r, %r]; "
                "from ansible_collections.sensa.infra.plugins.module_utils.pg_cluster import Cluster; "
                "Cluster(%r, engine=%r, port=%d).start(settings={'listen_addresses': %r})"
                % (COLLECTIONS_DIR, TESTS_DIR, self.cluster.base, self.engine, DB_PORT, DB_ADDR))
        self.run_in("vpc", [sys.executable, "-c", code])
        self.cluster.create_database("sensa")

    # sshd in bastion --------------------------------------------------------------------------
    def prepare_ssh(self):
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege separation directory
        for name in ("host_key", "client_key"):
            sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "sensa-private-path-test", "-f", self.path(name)])
        shutil.copy(self.path("client_key.pub"), self.path("authorized_keys"))
        with open(self.path("host_key.pub")) as handle:
            host_key = " ".join(handle.read().split()[:2])
        with open(self.path("known_hosts"), "w") as handle:
            handle.write("%s %s\n" % (BASTION_CTL_ADDR, host_key))
        config = {
            "ListenAddress": BASTION_CTL_ADDR, "Port": "22", "HostKey": self.path("host_key"),
            "PidFile": self.path("sshd.pid"), "AuthorizedKeysFile": self.path("authorized_keys"),
            "PubkeyAuthentication": "yes", "PasswordAuthentication": "no", "KbdInteractiveAuthentication": "no",
            "PermitRootLogin": "prohibit-password", "UsePAM": "no", "StrictModes": "no", "UseDNS": "no",
            # A bastion that forwards to the database and to nothing else.
            "AllowTcpForwarding": "local", "PermitOpen": "%s:%d" % (DB_ADDR, DB_PORT),
            "AllowAgentForwarding": "no", "X11Forwarding": "no", "PermitTTY": "no", "PermitTunnel": "no",
            "GatewayPorts": "no", "LogLevel": "VERBOSE",
        }
        with open(self.path("sshd_config"), "w") as handle:
            handle.writelines("%s %s\n" % item for item in config.items())

    def start_bastion(self, timeout=20):
        log = open(self.path("sshd.log"), "a")
        self.sshd = subprocess.Popen(self.exec_argv("bastion", [SSHD, "-D", "-e", "-f", self.path("sshd_config")]),
                                     stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sshd.poll() is not None:
                raise RuntimeError("sshd exited: %s" % self.read("sshd.log")[-2000:])
            if self.listeners("bastion"):
                return
            time.sleep(0.1)
        raise RuntimeError("sshd did not listen within %s s" % timeout)

    def stop_bastion(self):
        if self.sshd and self.sshd.poll() is None:
            self.sshd.terminate()
            try:
                self.sshd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.sshd.kill()
                self.sshd.wait()
        self.sshd = None

    # observation ------------------------------------------------------------------------------
    def listeners(self, role):
        """Local addresses of the listening TCP sockets in a namespace (ss -ltn)."""
        out = self.run_in(role, ["ss", "-ltnH"]).stdout
        return [line.split()[3] for line in out.splitlines() if line.strip()]

    def start_listener_sampler(self):
        """Sample `ss -ltn` in ctl every 0.2 s for as long as a play runs."""
        out = open(self.path("ss-samples.txt"), "w")
        proc = subprocess.Popen(self.exec_argv("ctl", ["sh", "-c", "while :; do ss -ltnH; echo ---; sleep 0.2; done"]),
                                stdout=out, stderr=subprocess.DEVNULL, start_new_session=True)
        out.close()
        return proc

    def stop_listener_sampler(self, proc):
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)  # the loop and its current ss/sleep
        proc.wait(timeout=10)
        deadline = time.monotonic() + 5
        while self.processes_in("ctl") and time.monotonic() < deadline:
            time.sleep(0.05)
        samples = [s for s in self.read("ss-samples.txt").split("---\n") if s is not None]
        return [[line.split()[3] for line in sample.splitlines() if line.strip()] for sample in samples]

    def connect_from(self, role, host, port, timeout=3):
        """True when a TCP connection from the namespace to host:port succeeds."""
        code = ("import socket, sys\ntry:\n socket.create_connection((%r, %d), timeout=%d).close()\n"
                "except OSError as e:\n print(e)\n sys.exit(1)\n" % (host, port, timeout))
        result = self.run_in(role, [sys.executable, "-c", code], check=False)
        return result.returncode == 0, result.stdout.strip()

    def processes_in(self, role):
        """Command lines of the processes running in a namespace."""
        found = []
        for pid in self.processes_in_ns(self.ns[role]):
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as handle:
                    found.append(handle.read().replace(b"\0", b" ").decode(errors="replace").strip())
            except OSError:
                continue
        return found

    # playbooks --------------------------------------------------------------------------------
    def write_inventory(self, **overrides):
        host = {
            "sensa_db_engine": self.engine,
            "sensa_db_login": {"login_host": DB_ADDR, "login_port": DB_PORT, "login_user": "postgres",
                               "login_password": self.db_password, "login_db": "sensa", "login_unix_socket": "",
                               "ssl_mode": "prefer"},
            "db_path_backend": "ssh",
            "db_path_ssh_host": BASTION_CTL_ADDR,
            "db_path_ssh_user": "root",
            "db_path_ssh_identity_file": self.path("client_key"),
            "db_path_ssh_known_hosts_file": self.path("known_hosts"),
            "db_path_state_dir": self.path("path-state"),
        }
        host.update(overrides)
        inventory = {"all": {
            "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                     "sensa_local_dir": self.path("local"),
                     "pg_extensions_uuid_ossp_required": self.engine == "system"},
            "children": {"sensa_databases": {"hosts": {"vpcdb": host}}},
        }}
        path = self.path("hosts.yml")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            yaml.safe_dump(inventory, handle)
        return path

    def run_playbook(self, playbook, extra_vars=None, timeout=600, extra_args=(), env=None, path_prefix=None):
        """ansible-playbook inside ctl, as an operator on a laptop outside the VPC."""
        ensure_collection_link()
        bindir = os.path.dirname(sys.executable)
        argv = [os.path.join(bindir, "ansible-playbook"), playbook, "-i", self.path("hosts.yml")] + list(extra_args)
        for key, value in (extra_vars or {}).items():
            argv += ["-e", "%s=%s" % (key, value)]
        search_path = [path_prefix] if path_prefix else []
        search_path += [bindir, os.environ.get("PATH", "")]
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(REPO_ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_FORCE_COLOR="0", PATH=os.pathsep.join(search_path), **(env or {}))
        start = time.monotonic()
        proc = subprocess.run(self.exec_argv("ctl", argv), cwd=REPO_ROOT, capture_output=True, text=True, env=env,
                              timeout=timeout, check=False)
        result = PlaybookResult(proc)
        result.elapsed = time.monotonic() - start
        return result

    # files ------------------------------------------------------------------------------------
    def path(self, name):
        return os.path.join(self.dir, name)

    def read(self, name):
        try:
            with open(self.path(name), errors="replace") as handle:
                return handle.read()
        except OSError:
            return ""

    def destroy(self):
        self.stop_bastion()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.destroy()
        for name in self.ns.values():
            for pid in self.processes_in_ns(name):
                with contextlib.suppress(OSError):
                    os.kill(pid, 9)  # only processes this suite started inside its own namespaces
            sh(["ip", "netns", "delete", name], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    @staticmethod
    def processes_in_ns(name):
        out = sh(["ip", "netns", "pids", name], check=False).stdout
        return [int(pid) for pid in out.split()]


@contextlib.contextmanager
def private_database(engine):
    topology = Topology(engine)
    try:
        topology.create()
        topology.start_database()
        topology.prepare_ssh()
        topology.start_bastion()
        yield topology
    finally:
        topology.destroy()
