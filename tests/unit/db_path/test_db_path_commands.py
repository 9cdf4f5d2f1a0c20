"""Command construction and the small checks of plugins/module_utils/db_path.py (no network
beyond 127.0.0.1, no AWS: the SSM session itself cannot run on this machine)."""

import socket
import subprocess
import sys
import threading
import time

import pytest

from ansible_collections.sensa.infra.plugins.module_utils import db_path
from ansible_collections.sensa.infra.plugins.module_utils.pg_cluster import free_port

DB = "sensa-dev-alice-db.abc123.eu-west-1.rds.amazonaws.com"


def option_values(argv, flag="-o"):
    return [argv[i + 1] for i, value in enumerate(argv) if value == flag]


# --- ssm -----------------------------------------------------------------------------------

def test_ssm_command_forwards_through_the_bastion_with_the_remote_host_document():
    argv = db_path.ssm_command("i-0123456789abcdef0", DB, 5432, 40123, region="eu-west-1")
    assert argv == [
        "aws", "ssm", "start-session",
        "--target", "i-0123456789abcdef0",
        "--document-name", "AWS-StartPortForwardingSessionToRemoteHost",
        "--parameters", "host=%s,portNumber=5432,localPortNumber=40123" % DB,
        "--region", "eu-west-1",
    ]


def test_ssm_command_profile_and_binary():
    argv = db_path.ssm_command("i-0abc", DB, "5433", "15432", aws_binary="/opt/aws/bin/aws", profile="sensa-dev")
    assert argv[0] == "/opt/aws/bin/aws"
    assert argv[-2:] == ["--profile", "sensa-dev"]
    assert "--region" not in argv
    assert "host=%s,portNumber=5433,localPortNumber=15432" % DB in argv


@pytest.mark.parametrize("target, host, port, local, message", [
    ("", DB, 5432, 40000, "SSM target"),
    ("i-0abc", "", 5432, 40000, "database host"),
    ("i-0abc", "db host", 5432, 40000, "database host"),
    ("--debug", DB, 5432, 40000, "SSM target"),
    ("i-0abc", DB, 0, 40000, "database port"),
    ("i-0abc", DB, 5432, 70000, "local port"),
])
def test_ssm_command_refuses_bad_input(target, host, port, local, message):
    with pytest.raises(ValueError, match=message):
        db_path.ssm_command(target, host, port, local)


# --- ssh -----------------------------------------------------------------------------------

def test_ssh_command_forwards_loopback_only_never_prompts_and_exits_on_failure():
    argv = db_path.ssh_command("bastion.example.org", DB, 5432, 40123, user="ops",
                               identity_file="/home/ops/.ssh/bastion", known_hosts_file="/home/ops/.ssh/known_hosts")
    assert argv[:3] == ["ssh", "-N", "-T"]
    assert argv[argv.index("-L") + 1] == "127.0.0.1:40123:%s:5432" % DB
    options = option_values(argv)
    for expected in ("ExitOnForwardFailure=yes", "BatchMode=yes", "StrictHostKeyChecking=yes", "ForwardAgent=no",
                     "ControlPath=none", "IdentitiesOnly=yes", "UserKnownHostsFile=/home/ops/.ssh/known_hosts"):
        assert expected in options
    # A silent bastion ends the process within interval * count seconds.
    assert "ServerAliveInterval=5" in options and "ServerAliveCountMax=3" in options
    assert argv[argv.index("-i") + 1] == "/home/ops/.ssh/bastion"
    assert argv[argv.index("-l") + 1] == "ops"
    assert argv[-2:] == ["--", "bastion.example.org"]
    # exactly one forward, nothing remote (-R) or dynamic (-D)
    assert argv.count("-L") == 1 and "-R" not in argv and "-D" not in argv


def test_ssh_command_minimal_and_extra_options():
    argv = db_path.ssh_command("10.0.0.5", "10.1.0.7", 5433, 15000, port=2222, extra_options=["ProxyJump=jump"],
                               strict_host_key_checking="accept-new", ssh_binary="/usr/bin/ssh")
    assert argv[0] == "/usr/bin/ssh"
    assert argv[argv.index("-p") + 1] == "2222"
    assert "ProxyJump=jump" in option_values(argv)
    assert "StrictHostKeyChecking=accept-new" in option_values(argv)
    assert "-i" not in argv and "-l" not in argv
    assert argv[-2:] == ["--", "10.0.0.5"]


@pytest.mark.parametrize("bastion, host, port, local", [
    ("", DB, 5432, 40000),
    ("-oProxyCommand=sh", DB, 5432, 40000),
    ("bastion", "db\nhost", 5432, 40000),
    ("bastion", DB, 5432, 0),
    ("bastion", DB, 65536, 40000),
])
def test_ssh_command_refuses_bad_input(bastion, host, port, local):
    with pytest.raises(ValueError):
        db_path.ssh_command(bastion, host, port, local)


# --- tools, messages, login ----------------------------------------------------------------

def test_missing_tools_say_how_to_install_them():
    assert db_path.missing_tools("ssm", lambda name: None) == [
        ("aws", db_path.INSTALL_HINTS["aws"]), ("session-manager-plugin", db_path.INSTALL_HINTS["session-manager-plugin"])]
    assert "getting-started-install" in db_path.INSTALL_HINTS["aws"]
    assert "session-manager-working-with-install-plugin" in db_path.INSTALL_HINTS["session-manager-plugin"]
    found = {"/opt/aws": True}
    assert db_path.missing_tools("ssm", found.get, {"aws": "/opt/aws"}) == [
        ("session-manager-plugin", db_path.INSTALL_HINTS["session-manager-plugin"])]
    assert db_path.missing_tools("ssh", lambda name: "/usr/bin/ssh") == []
    assert db_path.missing_tools("none", lambda name: None) == []


def test_describe_and_fix_name_the_path():
    text = db_path.describe("ssm", DB, 5432, 40123, "i-0abc")
    assert "SSM port forward" in text and "i-0abc" in text and "127.0.0.1:40123" in text and DB in text
    assert "describe-instance-information" in db_path.fix_hint("ssm", "i-0abc")
    assert "ssh -p 2222 ops@bastion true" in db_path.fix_hint("ssh", "bastion", "ops", 2222)


def test_login_overrides_point_at_loopback_and_keep_the_name_for_verify_full():
    overrides, environment = db_path.login_overrides("prefer", 40123)
    assert overrides == {"login_host": "127.0.0.1", "login_port": 40123, "login_unix_socket": ""}
    assert environment == {}
    overrides, environment = db_path.login_overrides("verify-full", "40123")
    assert overrides == {"login_port": 40123, "login_unix_socket": ""}  # login_host keeps the RDS name
    assert environment == {"PGHOSTADDR": "127.0.0.1"}


# --- listeners, probe, process -------------------------------------------------------------

def test_listeners_decode_proc_net_tcp(tmp_path):
    header = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
    (tmp_path / "tcp").write_text(header
                                  + "   0: 0100007F:9C4B 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1\n"
                                  + "   1: 00000000:9C4B 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 2\n"
                                  + "   2: 0100007F:1538 0100007F:9C4B 01 00000000:00000000 00:00000000 00000000 0 0 3\n")
    (tmp_path / "tcp6").write_text(header
                                   + "   0: 00000000000000000000000001000000:9C4B 00000000000000000000000000000000:0000 0A"
                                   " 00000000:00000000 00:00000000 00000000 0 0 4\n")
    found = db_path.listeners(0x9C4B, proc_net=str(tmp_path))
    wildcard = "0.0.0.0"  # noqa: S104 - decoded from the fake table, nothing binds it
    assert found == ["127.0.0.1", wildcard, "::1"]
    assert db_path.non_loopback(found) == [wildcard]
    assert db_path.listeners(5432, proc_net=str(tmp_path)) == []
    assert db_path.listeners(5432, proc_net=str(tmp_path / "missing")) is None


def serve_once(reply):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def answer():
        conn, _ = server.accept()
        with conn:
            if conn.recv(8) == db_path.SSL_REQUEST and reply is not None:
                conn.sendall(reply)
        server.close()

    threading.Thread(target=answer, daemon=True).start()
    return server.getsockname()[1]


def test_probe_accepts_a_postgres_answer_and_names_anything_else():
    assert db_path.probe_postgres(serve_once(b"N"), timeout=5) is None
    assert db_path.probe_postgres(serve_once(b"S"), timeout=5) is None
    assert "not PostgreSQL" in db_path.probe_postgres(serve_once(b"H"), timeout=5)
    assert "closed the connection" in db_path.probe_postgres(serve_once(None), timeout=5)
    assert "nothing accepts connections" in db_path.probe_postgres(free_port(), timeout=2)


def test_probe_of_a_silent_path_gives_up_after_its_timeout():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)  # accepts (kernel backlog) and never answers, like a tunnel to a dead bastion
    try:
        reason = db_path.probe_postgres(server.getsockname()[1], timeout=1)
    finally:
        server.close()
    assert "no answer from the database within 1 s" in reason


def test_process_start_alive_stop_and_state(tmp_path):
    argv = [sys.executable, "-c", "import time; time.sleep(60)"]
    proc = db_path.start_process(argv, str(tmp_path / "tunnel.log"))
    state_file = db_path.state_path(str(tmp_path / "state"), "db/1")
    assert state_file.endswith("db_1.json")
    db_path.write_state(state_file, {"pid": proc.pid, "command": argv})
    assert db_path.read_state(state_file) == {"pid": proc.pid, "command": argv}
    assert db_path.process_alive(proc.pid, argv)
    assert not db_path.process_alive(proc.pid, argv[:2] + ["something else"])  # a reused pid is not ours
    assert db_path.stop_process(proc.pid, argv)
    assert proc.wait(timeout=5) is not None
    assert not db_path.process_alive(proc.pid, argv)
    assert not db_path.stop_process(proc.pid, argv)


def test_wait_until_ready_reports_an_exited_tunnel():
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.exit(255)"])
    reason = db_path.wait_until_ready(proc, free_port(), timeout=10)
    assert reason == "the tunnel process exited with status 255"


def test_a_script_run_by_its_interpreter_is_still_recognised(tmp_path):
    script = tmp_path / "aws"
    script.write_text("#!%s\nimport time\ntime.sleep(60)\n" % sys.executable)
    script.chmod(0o755)
    argv = [str(script), "ssm", "start-session", "--target", "i-0abc"]
    proc = db_path.start_process(argv, str(tmp_path / "tunnel.log"))
    try:
        deadline = time.monotonic() + 10
        while db_path._cmdline(proc.pid) == [] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert db_path._cmdline(proc.pid)[0] != str(script)  # the interpreter runs it
        assert db_path.process_alive(proc.pid, argv)
    finally:
        assert db_path.stop_process(proc.pid, argv)
    proc.wait(timeout=5)
