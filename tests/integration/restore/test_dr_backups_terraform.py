"""files/terraform/modules/dr_backups with the real Terraform CLI, in a throwaway root.

The root is written to a temporary directory (both key variants: a key of its own in the DR
region, and a replica of a multi-Region primary key); Terraform installs hashicorp/aws from
the provider mirror found on this machine at run time (a generated CLI config, never a
committed path). `fmt -check` and `validate` run offline; `plan` runs against moto.
moto does not implement StartDBInstanceAutomatedBackupsReplication, so no `apply`.
"""

import glob
import os
import re
import shutil
import subprocess

import pytest

from support import moto_server
from support.collection import REPO_ROOT

MODULE = os.path.join(REPO_ROOT, "files", "terraform", "modules", "dr_backups")
MIRROR_PATTERNS = ("/opt/*/registry.terraform.io/hashicorp/aws", "/usr/share/terraform/*/registry.terraform.io/hashicorp/aws",
                   os.path.expanduser("~/.terraform.d/plugins/registry.terraform.io/hashicorp/aws"))

ROOT = """
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}
provider "aws" {
  region = "eu-west-1"
}
provider "aws" {
  alias  = "dr"
  region = "eu-central-1"
}
module "own_key" {
  source                 = "%(module)s"
  providers              = { aws = aws, aws.dr = aws.dr }
  name                   = "sensa-production"
  source_db_instance_arn = "arn:aws:rds:eu-west-1:123456789012:db:sensa-production"
}
module "replica_key" {
  source                 = "%(module)s"
  providers              = { aws = aws, aws.dr = aws.dr }
  name                   = "sensa-production-mrk"
  source_db_instance_arn = "arn:aws:rds:eu-west-1:123456789012:db:sensa-production"
  primary_kms_key_arn    = "arn:aws:kms:eu-west-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef"
  retention_period       = 14
}
"""


def _mirror():
    for pattern in MIRROR_PATTERNS:
        for path in sorted(glob.glob(pattern)):
            if glob.glob(os.path.join(path, "*", "linux_amd64")):
                return path[: -len("/registry.terraform.io/hashicorp/aws")]
    return None


@pytest.fixture(scope="module")
def terraform(tmp_path_factory):
    binary = shutil.which("terraform")
    mirror = _mirror()
    if not binary or not mirror:
        pytest.skip("needs the terraform CLI on PATH and a hashicorp/aws provider mirror (found: %s, %s)" % (binary, mirror))
    root = tmp_path_factory.mktemp("dr-root")
    (root / "main.tf").write_text(ROOT % {"module": MODULE})
    (root / "cli.tfrc").write_text('provider_installation {\n  filesystem_mirror {\n    path = "%s"\n  }\n}\n' % mirror)
    env = dict(os.environ, TF_CLI_CONFIG_FILE=str(root / "cli.tfrc"), TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1",
               TF_DATA_DIR=str(root / ".terraform"))

    def run(*args, extra_env=None, check=True):
        proc = subprocess.run([binary] + list(args) + ["-no-color"], cwd=str(root), env=dict(env, **(extra_env or {})),
                              capture_output=True, text=True, timeout=600, check=False)
        if check:
            assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc

    run("init", "-input=false", "-backend=false")
    return run


def test_module_is_formatted_and_valid(terraform):
    proc = subprocess.run([shutil.which("terraform"), "fmt", "-check", "-recursive", "-no-color", MODULE],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, "terraform fmt would change: %s" % proc.stdout
    assert "The configuration is valid" in terraform("validate").stdout


def test_plan_against_moto_replicates_backups_with_a_dr_region_key(terraform, tmp_path):
    proc, url = moto_server.start(str(tmp_path / "moto.log"))
    try:
        env = dict(moto_server.AWS_TEST_ENV, AWS_ENDPOINT_URL=url)
        out = terraform("plan", "-input=false", "-out=" + str(tmp_path / "plan"), extra_env=env).stdout
        shown = terraform("show", str(tmp_path / "plan"), extra_env=env).stdout
    finally:
        moto_server.stop(proc)
    assert "Plan: 6 to add" in out, out  # per variant: a DR key, its alias, the replication
    assert 'module.own_key.aws_kms_key.dr[0]' in shown and 'module.replica_key.aws_kms_replica_key.dr[0]' in shown
    assert shown.count("aws_db_instance_automated_backups_replication.this") >= 2
    assert re.search(r"retention_period\s+=\s+14", shown) and re.search(r"enable_key_rotation\s+=\s+true", shown)
