"""moto in server mode on 127.0.0.1: the AWS endpoint of every test (never real AWS)."""

import os
import subprocess
import sys
import time
import urllib.request

from support.collection import ensure_collection_link

ensure_collection_link()

from ansible_collections.sensa.infra.plugins.module_utils.pg_cluster import free_port  # noqa: E402

# Dummy credentials moto accepts; real ones must never be needed by a test.
AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def start(log_path, timeout=30, detach=False):
    """Start moto_server on a free loopback port; returns (process, url) once it answers."""
    port = free_port()
    binary = os.path.join(os.path.dirname(sys.executable), "moto_server")
    with open(log_path, "w") as log:
        proc = subprocess.Popen([binary, "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=detach)
    return proc, wait_until_answering(proc, port, timeout, log_path, "moto_server")


def wait_until_answering(proc, port, timeout, log_path, what):
    """The URL of a just-started moto on ``port`` once it answers; stops it and raises if it never does."""
    url = "http://127.0.0.1:%d" % port
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)  # noqa: S310 - fixed loopback URL
            return url
        except Exception:  # noqa: BLE001 - not up yet
            if time.monotonic() > deadline or proc.poll() is not None:
                stop(proc)
                raise RuntimeError("%s did not start on %s (log: %s)" % (what, url, log_path))
            time.sleep(0.2)


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
