"""roles/terraform_stack and playbooks/provision.yml against the terraform STAND-IN.

tests/support/terraform_standin.py is not Terraform: it implements the CLI calls that
community.general.terraform makes and records them. What is real here: the role, the
playbooks, the dev inventory, Secrets Manager (moto in server mode on 127.0.0.1, read
through amazon.aws like a real run reads the RDS-managed secret) and PostgreSQL (the
pg_server session cluster over TCP with its superuser password).
"""

import json
import os
import subprocess
import sys

import pytest

from support import moto_server
from support.ansible_run import run_playbook
from support.collection import REPO_ROOT

STANDIN = os.path.join(REPO_ROOT, "tests", "support", "terraform_standin.py")
PLAYBOOK = os.path.join(REPO_ROOT, "tests", "integration", "provision", "playbooks", "provision_and_use_database.yml")
PROVISION = os.path.join(REPO_ROOT, "playbooks", "provision.yml")
INVENTORY = os.path.join(REPO_ROOT, "inventories", "dev")
BINDIR = os.path.dirname(sys.executable)
AWS_ENV = moto_server.AWS_TEST_ENV
MASTER_USERNAME_CANARY = "sensa_master_canary"


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory):
    proc, url = moto_server.start(str(tmp_path_factory.mktemp("moto") / "moto.log"))
    try:
        yield url
    finally:
        moto_server.stop(proc)


@pytest.fixture(scope="module")
def master_secret_arn(moto_url, pg_server):
    """The RDS-managed master secret, as RDS writes it (JSON with username and password)."""
    import boto3

    client = boto3.client("secretsmanager", endpoint_url=moto_url, region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing")  # noqa: S106 - moto dummy keys
    secret = client.create_secret(
        Name="rds!db-sensa-dev-alice",
        SecretString=json.dumps({"username": pg_server.superuser, "password": pg_server.superuser_password}),
    )
    return secret["ARN"]


class Standin:
    """One stand-in "remote state" and its invocation log."""

    def __init__(self, base, outputs):
        self.dir = str(base / "standin")
        self.log = str(base / "standin.jsonl")
        self.outputs_file = str(base / "outputs.json")
        self.data_dir = str(base / "tf-data")
        with open(self.outputs_file, "w") as handle:
            json.dump(outputs, handle)

    def env(self, **extra):
        env = dict(AWS_ENV, SENSA_TF_STANDIN_DIR=self.dir, SENSA_TF_STANDIN_LOG=self.log, SENSA_TF_STANDIN_OUTPUTS=self.outputs_file)
        env.update(extra)
        return env

    def calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as handle:
            return [json.loads(line) for line in handle]

    def commands(self):
        return [call["argv"][0] if call["argv"][0] != "workspace" else "workspace " + call["argv"][1] for call in self.calls()]

    def reset_log(self):
        if os.path.exists(self.log):
            os.remove(self.log)


@pytest.fixture
def standin(tmp_path, pg_db, master_secret_arn):
    return Standin(
        tmp_path,
        {
            "aws_region": "eu-west-1",
            "database_address": "127.0.0.1",
            "database_port": pg_db.cluster.port,
            "database_name": pg_db.name,
            "database_master_secret_arn": master_secret_arn,
            "database_master_username": {"value": MASTER_USERNAME_CANARY, "sensitive": True},
            "application_secret_name": "sensa/development/alice/app-db",
            "database_security_group_id": "sg-0db",
            "service_security_group_id": "sg-0svc",
            "cache_security_group_id": "sg-0cache",
            "cache_endpoint": "master.sensa-dev-alice-cache.example.invalid",
        },
    )


def extra_vars(standin, moto_url, developer="alice", **more):
    values = {
        "sensa_developer_id": developer,
        "terraform_stack_binary_path": STANDIN,
        "terraform_stack_data_dir": standin.data_dir,
        "terraform_stack_aws_endpoint_url": moto_url,
        # The local test cluster has no TLS; RDS runs use verify-full from the inventory.
        "terraform_stack_db_ssl_mode": "prefer",
        "terraform_stack_db_ca_cert": "",
    }
    values.update(more)
    return values


def run(standin, moto_url, playbook=PLAYBOOK, check=False, env=None, verbosity=0, **more):
    return run_playbook(
        playbook, inventory=INVENTORY, extra_vars=extra_vars(standin, moto_url, **more), check=check, env=standin.env(**(env or {})), verbosity=verbosity
    )


def test_check_mode_plans_and_applies_nothing(standin, moto_url):
    result = run(standin, moto_url, playbook=PROVISION, check=True)
    assert result.returncode == 0, result
    commands = standin.commands()
    assert "plan" in commands and "show" in commands
    assert "apply" not in commands and "destroy" not in commands
    plan = [c for c in standin.calls() if c["argv"][0] == "plan"][0]
    assert "-detailed-exitcode" in plan["argv"] and "-out" in plan["argv"]
    assert "check mode, planned only: changes" in result.output
    assert result.recap["localhost"]["changed"] >= 1, "check mode must report the planned change"
    # Nothing applied: no outputs, so no database host yet.
    assert "Register the database host" not in result.output


def test_apply_passes_workspace_backend_and_variables_then_reaches_the_database(standin, moto_url, pg_db, pg_server):
    result = run(standin, moto_url, verbosity=2)
    assert result.returncode == 0, result
    calls = standin.calls()

    init = [c for c in calls if c["argv"][0] == "init"]
    assert len(init) == 1
    assert init[0]["env"]["TF_WORKSPACE"] == "default", "init must not select the developer workspace"
    assert init[0]["env"]["TF_DATA_DIR"] == standin.data_dir
    assert init[0]["cwd"] == os.path.join(REPO_ROOT, "files", "terraform", "development")
    for setting in ("bucket=sensa-terraform-state", "key=sensa/development/terraform.tfstate", "region=eu-west-1", "dynamodb_table=sensa-terraform-locks"):
        assert "-backend-config=" + setting in init[0]["argv"], setting

    assert ["workspace", "new", "alice", "-no-color"] in [c["argv"] for c in calls]
    plan = [c for c in calls if c["argv"][0] == "plan"][0]
    assert plan["env"].get("TF_IN_AUTOMATION") == "1"
    variables = [plan["argv"][i + 1] for i, arg in enumerate(plan["argv"]) if arg == "-var"]
    for expected in (
        "developer_id=alice",
        "aws_region=eu-west-1",
        "db_instance_class=db.t4g.medium",
        "application_secret_name=sensa/development/alice/app-db",
        'admin_cidr_blocks=["10.200.0.0/16"]',
        'availability_zones=["eu-west-1a","eu-west-1b"]',
    ):
        assert expected in variables, (expected, variables)
    assert not [v for v in variables if "password" in v.lower()]
    apply = [c for c in calls if c["argv"][0] == "apply"]
    assert len(apply) == 1 and "-auto-approve" in apply[0]["argv"] and "-lock=true" in apply[0]["argv"]
    assert "-lock-timeout=300s" in apply[0]["argv"]
    # The module returns to the workspace it found.
    assert calls[-1]["argv"][:3] == ["workspace", "select", "default"]

    # add_host -> database play, over TCP with the password from the master secret.
    assert "probe: user=%s db=%s port=%s env=development" % (pg_server.superuser, pg_db.name, pg_server.port) in result.output
    assert "secret=sensa/development/alice/app-db" in result.output
    assert pg_server.superuser_password not in result.output
    assert MASTER_USERNAME_CANARY not in result.output
    assert result.recap["localhost"]["changed"] >= 1

    # Second run: Terraform plans no changes, nothing reports changed.
    standin.reset_log()
    again = run(standin, moto_url)
    assert again.returncode == 0, again
    assert "apply" not in standin.commands()
    assert again.changed() == 0, again.recap
    assert "probe: user=%s" % pg_server.superuser in again.output


def test_changed_variables_apply_again(standin, moto_url):
    assert run(standin, moto_url, playbook=PROVISION).returncode == 0
    standin.reset_log()
    result = run(
        standin,
        moto_url,
        playbook=PROVISION,
        terraform_stack_variables={
            "availability_zones": ["eu-west-1a", "eu-west-1b"],
            "db_instance_class": "db.t4g.large",
            "container_image": "public.ecr.aws/sensa/learn-api:1.0.1",
        },
    )
    assert result.returncode == 0, result
    assert "apply" in standin.commands()
    assert result.recap["localhost"]["changed"] >= 1


def test_failing_plan_fails_the_play_with_terraforms_message(standin, moto_url):
    message = "creating RDS DB Instance (sensa-dev-alice-db): InvalidParameterCombination canary-4711"
    result = run(standin, moto_url, env={"SENSA_TF_STANDIN_FAIL_PLAN": message})
    assert result.returncode != 0
    assert message in result.output
    assert "Terraform failed in development/alice" in result.output
    assert "apply" not in standin.commands()


def test_developer_workspace_is_created_even_when_other_workspaces_exist(standin, moto_url):
    """The S3 pitfall: init with TF_WORKSPACE=<new workspace> fails once others exist."""
    assert run(standin, moto_url, playbook=PROVISION, developer="bob").returncode == 0
    assert run(standin, moto_url, playbook=PROVISION, developer="carol").returncode == 0
    # The stand-in models the pitfall ...
    pitfall = subprocess.run(
        [STANDIN, "init", "-input=false", "-backend-config=bucket=b", "-backend-config=key=k", "-backend-config=region=eu-west-1"],
        env=dict(os.environ, TF_WORKSPACE="alice", **standin.env()),
        capture_output=True,
        text=True,
        cwd=os.path.join(REPO_ROOT, "files", "terraform", "development"),
        check=False,
    )
    assert pitfall.returncode == 1 and 'workspace "alice" does not exist' in pitfall.stderr
    # ... and the role avoids it.
    result = run(standin, moto_url, playbook=PROVISION)
    assert result.returncode == 0, result
    assert ["workspace", "new", "alice", "-no-color"] in [c["argv"] for c in standin.calls()]


def test_teardown_needs_the_confirmation(standin, moto_url):
    assert run(standin, moto_url, playbook=PROVISION).returncode == 0
    standin.reset_log()
    refused = run(standin, moto_url, playbook=PROVISION, terraform_stack_state="absent")
    assert refused.returncode != 0
    assert "Refusing to destroy development/alice" in refused.output
    assert "terraform_stack_confirm_destroy=development/alice" in refused.output
    assert standin.calls() == []

    wrong = run(standin, moto_url, playbook=PROVISION, terraform_stack_state="absent", terraform_stack_confirm_destroy="development/bob")
    assert wrong.returncode != 0 and standin.calls() == []

    planned = run(standin, moto_url, playbook=PROVISION, check=True, terraform_stack_state="absent", terraform_stack_confirm_destroy="development/alice")
    assert planned.returncode == 0, planned
    assert "destroy" not in standin.commands()
    assert any(c["argv"][:2] == ["plan", "-destroy"] for c in standin.calls())

    destroyed = run(standin, moto_url, playbook=PROVISION, terraform_stack_state="absent", terraform_stack_confirm_destroy="development/alice")
    assert destroyed.returncode == 0, destroyed
    assert "destroy" in standin.commands()
    assert destroyed.recap["localhost"]["changed"] >= 1
    assert "Register the database host" not in destroyed.output


@pytest.mark.slow
@pytest.mark.skipif(
    not os.path.isfile(os.path.join(REPO_ROOT, "roles", "pg_extensions", "tasks", "main.yml")),
    reason="the database stages (roles/pg_extensions) do not exist yet",
)
def test_site_playbook_provisions_then_runs_the_database_stages(standin, moto_url, pg_db, pg_engine):
    """site.yml end to end: the stand-in's outputs reach database.yml through add_host."""
    more = {}
    if pg_engine == "embedded":
        more["pg_extensions_uuid_ossp_required"] = False  # the embedded engine has no uuid-ossp
    result = run(standin, moto_url, playbook=os.path.join(REPO_ROOT, "playbooks", "site.yml"), **more)
    assert result.returncode == 0, result
    assert pg_db.scalar("SELECT count(*) FROM pg_extension WHERE extname = 'vector'") == 1
    if os.path.isfile(os.path.join(REPO_ROOT, "roles", "pg_migrations", "tasks", "main.yml")):
        assert pg_db.scalar("SELECT to_regclass('public.migrations_log') IS NOT NULL") is True
        assert pg_db.scalar("SELECT count(*) FROM public.migrations_log") > 0
    again = run(standin, moto_url, playbook=os.path.join(REPO_ROOT, "playbooks", "site.yml"), **more)
    assert again.returncode == 0, again
    assert again.recap["localhost"]["changed"] == 0
