"""Real Terraform against moto: fixtures shared by the real-Terraform stage.

The CLI and the hashicorp/aws provider are real (tests/support/terraform_cli.py); only
AWS itself is emulated, by moto on 127.0.0.1 with its gaps bridged in one place
(tests/support/terraform_moto.py). Plans are made once per session (about 10 s each)
and shared by every property test.
"""

import threading

import pytest

from support import moto_server, terraform_moto
from support.terraform_cli import Unavailable, probe, write_cli_config
from support.terraform_stage import Root, create_backend


@pytest.fixture(scope="session")
def terraform_tools(tmp_path_factory):
    try:
        tf_version, provider_version, binary, mirror = probe()
    except Unavailable as reason:
        pytest.skip("real Terraform not available: %s" % reason)
    config = write_cli_config(str(tmp_path_factory.mktemp("tfrc")), mirror)
    return {"binary": binary, "cli_config": config, "terraform_version": tf_version, "provider_version": provider_version}


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory):
    proc, url = terraform_moto.start(str(tmp_path_factory.mktemp("moto") / "moto.log"))
    try:
        create_backend(url)
        yield url
    finally:
        moto_server.stop(proc)


@pytest.fixture(scope="session")
def roots(terraform_tools, moto_url, tmp_path_factory):
    """Both roots initialised against moto and planned, in parallel (one plan each per session)."""
    made, errors = {}, []

    def make(environment):
        try:
            made[environment] = Root(terraform_tools, moto_url, tmp_path_factory.mktemp(environment), environment)
        except Exception as error:  # noqa: BLE001 - re-raised below in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=make, args=(env,)) for env in ("development", "production")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return made
