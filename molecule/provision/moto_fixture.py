"""Start or stop the emulated AWS of the provision scenario (real Terraform against moto).

start DIR: moto with its gaps bridged (tests/support/terraform_moto.py) on a free 127.0.0.1
port (pid in DIR/moto.pid, port in DIR/moto.port), the state bucket and lock table in it,
and DIR/terraform.tfrc, the CLI configuration that installs hashicorp/aws from the
filesystem mirror (tests/support/terraform_cli.py finds it). Fails, saying why, when
this machine has no Terraform CLI or no mirror.
stop DIR: terminate the moto whose pid is in DIR/moto.pid.
"""

import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "tests"))
from support import terraform_cli, terraform_moto  # noqa: E402
from support.terraform_stage import create_backend  # noqa: E402


def start(directory):
    os.makedirs(directory, exist_ok=True)
    try:
        _tf_version, _provider_version, _binary, mirror = terraform_cli.probe()
    except terraform_cli.Unavailable as reason:
        sys.exit("real Terraform not available: %s" % reason)
    terraform_cli.write_cli_config(directory, mirror)
    # Detached: it must outlive this script, until cleanup.yml stops it by its pid.
    proc, url = terraform_moto.start(os.path.join(directory, "moto.log"), detach=True)
    with open(os.path.join(directory, "moto.pid"), "w") as handle:
        handle.write(str(proc.pid))
    with open(os.path.join(directory, "moto.port"), "w") as handle:
        handle.write(url.rsplit(":", 1)[1])
    create_backend(url)


def stop(directory):
    path = os.path.join(directory, "moto.pid")
    if not os.path.exists(path):
        return
    with open(path) as handle:
        pid = int(handle.read().strip())
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    os.remove(path)


if __name__ == "__main__":
    {"start": start, "stop": stop}[sys.argv[1]](sys.argv[2])
