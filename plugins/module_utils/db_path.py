# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The path from the controller to a private database: command construction, the tunnel
process and its checks, shared by the db_path module and its unit tests.

Two backends forward a port on the controller's 127.0.0.1 to the database:

* ``ssm``: ``aws ssm start-session`` with the ``AWS-StartPortForwardingSessionToRemoteHost``
  document through an SSM-managed bastion (no inbound rule anywhere);
* ``ssh``: ``ssh -N -L 127.0.0.1:<local>:<db host>:<db port>`` through an SSH bastion.

Nothing here holds a secret: neither command line carries a password, and the tunnel's own
log (ssh/session-manager-plugin stderr) never sees the database credentials.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
import signal
import socket
import struct
import subprocess
import time

LOOPBACK = "127.0.0.1"
SSM_DOCUMENT = "AWS-StartPortForwardingSessionToRemoteHost"
# The first message of a PostgreSQL connection that asks for TLS (protocol code 80877103).
# Any PostgreSQL server answers it with one byte, S or N, before authentication, so it proves
# the whole path up to the server without a credential and without a server-side log line.
SSL_REQUEST = struct.pack("!ii", 8, 80877103)

INSTALL_HINTS = {
    "ssh": "install the OpenSSH client (Debian/Ubuntu: apt-get install openssh-client; macOS ships it)",
    "aws": "install the AWS CLI v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html",
    "session-manager-plugin": "install the Session Manager plugin for the AWS CLI: "
    "https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html",
}


def required_tools(backend):
    if backend == "ssh":
        return ["ssh"]
    if backend == "ssm":
        return ["aws", "session-manager-plugin"]
    return []


def missing_tools(backend, which, binaries=None):
    """[(tool, install hint)] for every tool of ``backend`` that ``which(name)`` cannot find.

    ``binaries`` maps a tool to the path or name to look for (e.g. {'ssh': '/usr/bin/ssh'}).
    """
    binaries = binaries or {}
    missing = []
    for tool in required_tools(backend):
        if not which(binaries.get(tool) or tool):
            missing.append((tool, INSTALL_HINTS[tool]))
    return missing


def _check_port(value, what):
    port = int(value)
    if not 0 < port < 65536:
        raise ValueError("%s must be a TCP port (1-65535), got %r" % (what, value))
    return port


def _check_host(value, what):
    if not value or value.startswith("-") or any(c.isspace() for c in value):
        raise ValueError("%s must be a host name or address, got %r" % (what, value))
    return value


def ssh_command(bastion_host, remote_host, remote_port, local_port, ssh_binary="ssh", user=None, port=22,
                identity_file=None, known_hosts_file=None, strict_host_key_checking="yes", connect_timeout=10,
                server_alive_interval=5, server_alive_count_max=3, extra_options=None):
    """argv of an ssh process that forwards 127.0.0.1:<local_port> to remote_host:remote_port
    through bastion_host, and nothing else.

    -N: no remote command; ExitOnForwardFailure: exit instead of running without the forward
    (e.g. the local port is taken); BatchMode: never prompt (no password, no host-key question):
    a play must fail, not wait for input; ServerAlive*: a dead bastion ends the process within
    interval * count seconds, so nothing waits on a silent connection.
    """
    bastion_host = _check_host(bastion_host, "the SSH bastion host")
    remote_host = _check_host(remote_host, "the database host")
    forward = "%s:%d:%s:%d" % (LOOPBACK, _check_port(local_port, "the local port"), remote_host,
                               _check_port(remote_port, "the database port"))
    argv = [
        ssh_binary, "-N", "-T",
        "-L", forward,
        "-o", "ExitOnForwardFailure=yes",
        "-o", "BatchMode=yes",
        "-o", "ClearAllForwardings=no",
        "-o", "ForwardAgent=no",
        "-o", "ForwardX11=no",
        "-o", "PermitLocalCommand=no",
        "-o", "ControlMaster=no",
        "-o", "ControlPath=none",
        "-o", "ConnectTimeout=%d" % int(connect_timeout),
        "-o", "ServerAliveInterval=%d" % int(server_alive_interval),
        "-o", "ServerAliveCountMax=%d" % int(server_alive_count_max),
        "-o", "StrictHostKeyChecking=%s" % strict_host_key_checking,
        "-p", str(_check_port(port, "the SSH port")),
    ]
    if identity_file:
        argv += ["-o", "IdentitiesOnly=yes", "-i", identity_file]
    if known_hosts_file:
        argv += ["-o", "UserKnownHostsFile=%s" % known_hosts_file]
    for option in extra_options or []:
        argv += ["-o", option]
    if user:
        argv += ["-l", user]
    # "--" ends the options: the host can never be read as one.
    argv += ["--", bastion_host]
    return argv


def ssm_command(target, remote_host, remote_port, local_port, aws_binary="aws", region=None, profile=None):
    """argv of ``aws ssm start-session`` forwarding localhost:<local_port> to remote_host:remote_port
    through the SSM-managed instance ``target``.

    session-manager-plugin binds the local port on localhost only (it has no option to do
    otherwise); db_path checks the listener after the start anyway.
    """
    target = _check_host(target, "the SSM target (bastion instance id)")
    remote_host = _check_host(remote_host, "the database host")
    parameters = "host=%s,portNumber=%d,localPortNumber=%d" % (
        remote_host, _check_port(remote_port, "the database port"), _check_port(local_port, "the local port"))
    argv = [aws_binary, "ssm", "start-session", "--target", target, "--document-name", SSM_DOCUMENT,
            "--parameters", parameters]
    if region:
        argv += ["--region", region]
    if profile:
        argv += ["--profile", profile]
    return argv


def describe(backend, remote_host, remote_port, local_port, bastion=None):
    """One line naming the path, for messages: 'ssh tunnel 127.0.0.1:40123 -> bastion -> db:5432'."""
    kind = {"ssh": "ssh tunnel via bastion", "ssm": "SSM port forward via bastion instance"}.get(backend, backend)
    return "%s %s (%s:%s -> %s:%s)" % (kind, bastion or "?", LOOPBACK, local_port, remote_host, remote_port)


def fix_hint(backend, bastion=None, user=None, port=22):
    if backend == "ssh":
        who = "%s@%s" % (user, bastion) if user else str(bastion)
        return ("check that the bastion is up and accepts your key and host key (ssh -p %s %s true) and that it may "
                "forward to the database (sshd PermitOpen/AllowTcpForwarding), then re-run the playbook: every run "
                "opens a new path" % (port, who))
    if backend == "ssm":
        return ("check that the bastion instance %s is running and online in Systems Manager "
                "(aws ssm describe-instance-information --filters Key=InstanceIds,Values=%s), that your AWS "
                "credentials allow ssm:StartSession on it with the document %s, and that its security group may "
                "reach the database; then re-run the playbook: every run opens a new path" % (bastion, bastion, SSM_DOCUMENT))
    return "set db_path_backend to ssh or ssm in the inventory"


def login_overrides(ssl_mode, local_port, local_host=LOOPBACK):
    """What changes in the database stages' connection options through the path, and the
    environment they need: ({option: value}, {variable: value}).

    Host and port become 127.0.0.1:<local_port>. With ssl_mode verify-full the certificate names
    the database's host, not 127.0.0.1: then login_host keeps the name (libpq verifies the
    certificate against it) and PGHOSTADDR=127.0.0.1 makes libpq connect to the path instead.
    """
    overrides = {"login_port": int(local_port), "login_unix_socket": ""}
    environment = {}
    if ssl_mode == "verify-full":
        environment["PGHOSTADDR"] = local_host
    else:
        overrides["login_host"] = local_host
    return overrides, environment


def probe_postgres(port, timeout=5.0, host=LOOPBACK):
    """None when a PostgreSQL server answers through host:port within ``timeout``, else the reason."""
    try:
        sock = socket.create_connection((host, int(port)), timeout=timeout)
    except OSError as exc:
        return "nothing accepts connections on %s:%s (%s)" % (host, port, os.strerror(exc.errno) if exc.errno else exc)
    try:
        sock.settimeout(timeout)
        sock.sendall(SSL_REQUEST)
        answer = sock.recv(1)
    except socket.timeout:
        return "no answer from the database within %.0f s through %s:%s" % (timeout, host, port)
    except OSError as exc:
        return "the connection through %s:%s broke (%s)" % (host, port, exc)
    finally:
        sock.close()
    if answer in (b"S", b"N"):
        return None
    if not answer:
        return "the path closed the connection before the database answered (the far end is unreachable)"
    return "something that is not PostgreSQL answers on %s:%s" % (host, port)


def _hex_address(text):
    """Decode the address of /proc/net/tcp{,6} (host byte order words) to an ip string."""
    raw = bytes.fromhex(text)
    words = [raw[i:i + 4][::-1] for i in range(0, len(raw), 4)]
    packed = b"".join(words)
    family = socket.AF_INET if len(packed) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, packed)


def listeners(port, proc_net="/proc/net"):
    """Addresses with a listening TCP socket on ``port`` (Linux, this network namespace).

    None when /proc/net is not there (macOS laptops): the check is then skipped.
    """
    found = []
    seen_table = False
    for table in ("tcp", "tcp6"):
        path = os.path.join(proc_net, table)
        try:
            with open(path) as handle:
                lines = handle.readlines()[1:]
        except OSError:
            continue
        seen_table = True
        for line in lines:
            fields = line.split()
            if len(fields) < 4 or fields[3] != "0A":  # 0A = TCP_LISTEN
                continue
            address, _sep, hex_port = fields[1].rpartition(":")
            if int(hex_port, 16) == int(port):
                found.append(_hex_address(address))
    return found if seen_table else None


def non_loopback(addresses):
    return [a for a in addresses or [] if a not in ("127.0.0.1", "::1") and not a.startswith("127.")]


# --- the tunnel process ------------------------------------------------------------------

def state_path(state_dir, name):
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    return os.path.join(state_dir, safe + ".json")


def read_state(path):
    try:
        with open(path) as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def write_state(path, state):
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(state, handle)
    os.replace(tmp, path)


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % int(pid), "rb") as handle:
            return [part.decode("utf-8", "replace") for part in handle.read().split(b"\0") if part]
    except OSError:
        return None


def process_alive(pid, argv=None):
    """True when ``pid`` runs (and, where /proc exists, still runs ``argv``, not a reused pid)."""
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except OSError as exc:
        if exc.errno != errno.EPERM:
            return False
    cmdline = _cmdline(pid)
    # Right after the start the command line can read empty for a moment (exec not done).
    deadline = time.monotonic() + 2
    while cmdline == [] and time.monotonic() < deadline and not _zombie(pid):
        time.sleep(0.02)
        cmdline = _cmdline(pid)
    if cmdline is None:
        return not os.path.isdir("/proc/self")
    # The arguments end the command line; what runs them may differ from argv[0] (a script's
    # interpreter, e.g. "python3 /usr/local/bin/aws ssm start-session ...", or a resolved path).
    arguments = list(argv[1:]) if argv else []
    if arguments and cmdline[-len(arguments):] != arguments:
        return False
    return _zombie(pid) is False


def _zombie(pid):
    try:
        with open("/proc/%d/stat" % int(pid)) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def start_process(argv, log_path):
    """Start the tunnel detached from the module (own session, no inherited pipes), so it
    outlives the module and Ansible never waits on its output."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=fd, stderr=fd, close_fds=True,
                                start_new_session=True)
    finally:
        os.close(fd)
    return proc


def stop_process(pid, argv=None, timeout=5.0):
    """Terminate the tunnel's process group; True when something was stopped."""
    if not process_alive(pid, argv):
        return False
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(int(pid), sig)
        except OSError:
            try:
                os.kill(int(pid), sig)
            except OSError:
                return True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                # reap it when it is our own child (the open that failed); harmless otherwise
                os.waitpid(int(pid), os.WNOHANG)
            except OSError:
                pass
            if not process_alive(pid, argv):
                return True
            time.sleep(0.05)
    return True


def log_tail(path, lines=5):
    try:
        with open(path, errors="replace") as handle:
            text = [line.strip() for line in handle.readlines() if line.strip()]
    except OSError:
        return ""
    return " | ".join(text[-lines:])


def wait_until_ready(proc, port, timeout, probe_timeout=5.0, interval=0.1):
    """Wait for the forwarded port to lead to PostgreSQL; None when ready, else the reason."""
    deadline = time.monotonic() + timeout
    last = "the tunnel did not open its local port"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return "the tunnel process exited with status %s" % proc.returncode
        try:
            with socket.create_connection((LOOPBACK, int(port)), timeout=1):
                pass
        except OSError:
            time.sleep(interval)
            continue
        last = probe_postgres(port, timeout=min(probe_timeout, max(deadline - time.monotonic(), 0.5)))
        if last is None:
            return None
        if proc.poll() is not None:
            return "the tunnel process exited with status %s" % proc.returncode
        time.sleep(interval)
    return "%s within %s s" % (last, timeout)
