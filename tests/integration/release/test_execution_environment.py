"""`ansible-builder create` turns execution-environment.yml into a build context.

The image itself cannot be built here (no container engine); the context is what CI can check.
"""

import os
import subprocess
import sys

import yaml

from support.collection import REPO_ROOT


def test_builder_creates_a_complete_context(tmp_path):
    context = tmp_path / "context"
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-builder"), "create", "-f",
         os.path.join(REPO_ROOT, "execution-environment.yml"), "-c", str(context), "--output-filename", "Containerfile"],
        capture_output=True, text=True, cwd=REPO_ROOT, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    containerfile = (context / "Containerfile").read_text()
    assert "ansible-galaxy" in containerfile or "check_galaxy" in containerfile
    assert "COPY _build/bin/ /usr/local/bin/" in containerfile
    python_reqs = (context / "_build" / "requirements.txt").read_text()
    assert "psycopg2-binary" in python_reqs and "boto3" in python_reqs and "squawk-cli" in python_reqs
    collections = yaml.safe_load((context / "_build" / "requirements.yml").read_text())["collections"]
    names = {c["name"] for c in collections}
    assert {"amazon.aws", "community.postgresql", "community.general"} <= names
    # The project checkout carries sensa.infra (collections/ link); the EE never pulls it by name.
    assert "sensa.infra" not in names


def test_ee_pins_agree_with_the_project_pins():
    """The EE's Python pins are the same versions the test suite ran with."""
    pins = {}
    for line in open(os.path.join(REPO_ROOT, "requirements.txt")):
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            pins[name.split("[")[0].lower()] = version
    for line in open(os.path.join(REPO_ROOT, "ee", "requirements.txt")):
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            assert pins.get(name.lower()) == version, (name, version, pins.get(name.lower()))
