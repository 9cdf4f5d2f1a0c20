"""Start or stop moto_server for the provision scenario and seed the master secret.

start DIR: moto_server on a free 127.0.0.1 port (pid in DIR/moto.pid, port in DIR/moto.port),
the RDS-style master secret created in it, and DIR/outputs.json for the terraform stand-in.
stop DIR: terminate the moto_server whose pid is in DIR/moto.pid.
"""

import json
import os
import signal
import sys

# The one way tests start moto (tests/support/moto_server.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "tests"))
from support import moto_server  # noqa: E402


def start(directory):
    os.makedirs(directory, exist_ok=True)
    # Detached: it must outlive this script, until cleanup.yml stops it by its pid.
    proc, url = moto_server.start(os.path.join(directory, "moto.log"), detach=True)
    port = int(url.rsplit(":", 1)[1])
    with open(os.path.join(directory, "moto.pid"), "w") as handle:
        handle.write(str(proc.pid))
    with open(os.path.join(directory, "moto.port"), "w") as handle:
        handle.write(str(port))

    import boto3

    client = boto3.client("secretsmanager", endpoint_url=url, region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")  # noqa: S106 - moto dummy keys
    arn = client.create_secret(Name="rds!db-sensa-dev-molly", SecretString=json.dumps({"username": "sensa_master", "password": "molecule-only"}))["ARN"]
    outputs = {
        "aws_region": "eu-west-1",
        "database_address": "127.0.0.1",
        "database_port": 5432,
        "database_name": "sensa",
        "database_master_secret_arn": arn,
        "database_master_username": {"value": "sensa_master", "sensitive": True},
        "application_secret_name": "sensa/development/molly/app-db",
        "database_security_group_id": "sg-0db",
        "service_security_group_id": "sg-0svc",
        "cache_security_group_id": "sg-0cache",
        "cache_endpoint": "master.sensa-dev-molly-cache.example.invalid",
    }
    with open(os.path.join(directory, "outputs.json"), "w") as handle:
        json.dump(outputs, handle)


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
