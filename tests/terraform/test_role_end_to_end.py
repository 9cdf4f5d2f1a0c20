"""roles/terraform_stack end to end with the real Terraform CLI against moto.

    ansible-playbook site.yml -i inventories/dev -i tests/terraform/inventory -e sensa_developer_id=alice

The S3 backend and its DynamoDB lock table live in moto; every developer has a workspace.
The one substitution: a local PostgreSQL (this session's cluster) stands in for the RDS
endpoint, named in tests/terraform/inventory/group_vars/sensa_terraform.yml. The tests
of this file build on each other in order (one stack, provisioned once).
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import threading

import pytest

from support.ansible_run import run_playbook
from support.collection import REPO_ROOT
from support.database import Database
from support.terraform_stage import LOCK_TABLE, STATE_BUCKET, boto, leftovers, report

pytestmark = pytest.mark.slow

SITE = os.path.join(REPO_ROOT, "site.yml")
PROVISION = os.path.join(REPO_ROOT, "playbooks", "provision.yml")
INVENTORIES = ("-i", os.path.join(REPO_ROOT, "inventories", "dev"), "-i", os.path.join(REPO_ROOT, "tests", "terraform", "inventory"))
STATE_KEY = "env:/%s/sensa/development/terraform.tfstate"


class Stack:
    def __init__(self, moto_url, terraform_tools, pg_server, database, base):
        self.moto_url = moto_url
        self.tmp = str(base / "tmp")
        os.makedirs(self.tmp)
        self.env = {
            "AWS_ENDPOINT_URL": moto_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "TF_CLI_CONFIG_FILE": terraform_tools["cli_config"],
            "SENSA_TEST_TF_DATA": str(base / "tf-data"),
            "SENSA_TEST_PG_PORT": str(pg_server.port),
            "SENSA_TEST_PG_DB": database,
            "SENSA_TEST_PG_USER": pg_server.superuser,
            "SENSA_TEST_PG_PASSWORD": pg_server.superuser_password,
            # Every temporary file of the run lands here, so the tests can prove none is left.
            "TMPDIR": self.tmp,
        }
        self.password = pg_server.superuser_password

    def run(self, playbook=PROVISION, developer="alice", check=False, diff=False, env=None, **extra_vars):
        return run_playbook(
            playbook,
            extra_vars=dict({"sensa_developer_id": developer}, **extra_vars),
            check=check,
            diff=diff,
            env=dict(self.env, **(env or {})),
            extra_args=INVENTORIES,
            timeout=1500,
        )

    def state_objects(self):
        listed = boto("s3", self.moto_url).list_objects_v2(Bucket=STATE_BUCKET).get("Contents", [])
        return sorted(obj["Key"] for obj in listed)

    def lock_items(self):
        return boto("dynamodb", self.moto_url).scan(TableName=LOCK_TABLE)["Items"]

    def plan_files(self):
        found = []
        for pattern in ("*.tfplan", "sensa-terraform-*"):
            found += glob.glob(os.path.join(self.tmp, "**", pattern), recursive=True)
        return found


@pytest.fixture(scope="module")
def stack(moto_url, terraform_tools, pg_server, pg_engine, tmp_path_factory):
    database = "sensa_e2e"
    pg_server.create_database(database)
    made = Stack(moto_url, terraform_tools, pg_server, database, tmp_path_factory.mktemp("role"))
    made.more = {"pg_extensions_uuid_ossp_required": False} if pg_engine == "embedded" else {}  # embedded has no uuid-ossp
    yield made
    pg_server.drop_database(database)


def flat(result):
    """The run's output with every run of whitespace as one space (the callback wraps long lines)."""
    return " ".join(result.output.split())


def assert_clean(stack, result):
    assert stack.password not in result.output
    assert stack.plan_files() == [], "a plan file or run directory was left behind"
    for root in ("development", "production"):
        assert not os.path.exists(os.path.join(REPO_ROOT, "files", "terraform", root, ".terraform")), "a data directory inside the collection"


def test_check_mode_writes_nothing_remote_and_shows_the_plan(stack):
    result = stack.run(check=True, diff=True)
    assert result.returncode == 0, result
    planned = re.search(r"Terraform plan for development/alice: (\d+) to add, 0 to change, 0 to replace, 0 to destroy", flat(result))
    assert planned and int(planned.group(1)) >= 75, re.findall(r"Terraform plan for.{80}", flat(result)) or result
    assert "+ module.stack.module.database.aws_db_instance.main (create)" in flat(result)
    assert result.recap["localhost"]["changed"] >= 1, "check mode must report the planned change"
    assert stack.state_objects() == [], "check mode wrote a state object"
    assert stack.lock_items() == [], "check mode wrote to the lock table"
    assert_clean(stack, result)


def test_site_yml_provisions_alice_next_to_bob_and_migrates_the_database(stack, pg_server):
    bob = {}
    thread = threading.Thread(target=lambda: bob.setdefault("result", stack.run(developer="bob")))
    thread.start()
    result = stack.run(playbook=SITE, **stack.more)
    thread.join()
    assert result.returncode == 0, result
    assert bob["result"].returncode == 0, bob["result"]
    report("role: site.yml for alice (apply through the role) next to provision.yml for bob")
    assert result.recap["localhost"]["changed"] >= 1
    assert [h for h in result.recap if h.startswith("sensa-development-alice")], result.recap
    assert STATE_KEY % "alice" in stack.state_objects() and STATE_KEY % "bob" in stack.state_objects()
    rds = boto("rds", stack.moto_url).describe_db_instances()["DBInstances"]
    assert {"sensa-dev-alice-db", "sensa-dev-bob-db"} <= {db["DBInstanceIdentifier"] for db in rds}
    assert Database(pg_server, "sensa_e2e", pg_server.superuser_password).scalar("SELECT count(*) FROM public.migrations_log") > 0
    assert_clean(stack, result)


def test_second_run_changes_nothing(stack):
    again = stack.run(playbook=SITE, **stack.more)
    assert again.returncode == 0, again
    assert again.changed() == 0, again.recap
    assert "development/alice: no changes" in flat(again)
    assert_clean(stack, again)


def test_a_held_state_lock_fails_clearly(stack):
    lock_id = "%s/%s" % (STATE_BUCKET, STATE_KEY % "alice")
    info = {"ID": "5f0c6c43-held-by-carol", "Operation": "OperationTypeApply", "Who": "carol@laptop", "Version": "1.11.4",
            "Created": "2026-01-01T00:00:00Z", "Path": lock_id, "Info": ""}
    dynamodb = boto("dynamodb", stack.moto_url)
    dynamodb.put_item(TableName=LOCK_TABLE, Item={"LockID": {"S": lock_id}, "Info": {"S": json.dumps(info)}})
    try:
        result = stack.run(env={"SENSA_TEST_TF_LOCK_TIMEOUT": "2"})
    finally:
        dynamodb.delete_item(TableName=LOCK_TABLE, Key={"LockID": {"S": lock_id}})
    assert result.returncode != 0
    assert "The state of development/alice is locked by another Terraform run" in flat(result)
    assert "carol@laptop" in flat(result) and "5f0c6c43-held-by-carol" in flat(result)
    assert_clean(stack, result)


def test_stateful_replacement_is_refused_unless_confirmed(stack):
    """The production guard, exercised on alice's stack (the switch defaults to environment == production)."""
    renamed = {"terraform_stack_protect_stateful": True, "sensa_db_application_secret_name": "sensa/development/alice/app-db-v2"}
    review = stack.run(check=True, diff=True, **renamed)
    assert review.returncode != 0
    assert "-/+ module.stack.module.database.aws_secretsmanager_secret.application (replace)" in flat(review)
    assert "Refusing to apply to development/alice" in flat(review)
    assert "terraform_stack_confirm_replace=development/alice" in flat(review)
    confirmed = stack.run(check=True, terraform_stack_confirm_replace="development/alice", **renamed)
    assert confirmed.returncode == 0, confirmed
    assert_clean(stack, confirmed)


def test_purge_after_a_failed_run(stack):
    # Extra vars replace the inventory's whole variables map: the required availability_zones is
    # then missing, so the run fails at plan, after init has created dave's workspace.
    failed = stack.run(developer="dave", terraform_stack_variables={"db_instance_class": "db.t4g.small"})
    assert failed.returncode != 0
    assert "Terraform failed in development/dave" in flat(failed) and "availability_zones" in flat(failed), failed
    assert STATE_KEY % "dave" in stack.state_objects()
    purged = stack.run(
        developer="dave", terraform_stack_state="absent", terraform_stack_confirm_destroy="development/dave", terraform_stack_purge_workspace=True
    )
    assert purged.returncode == 0, purged
    assert STATE_KEY % "dave" not in stack.state_objects()
    assert_clean(stack, purged)


def test_read_only_collection_install_works(stack, tmp_path):
    """Init, workspace and plan never write inside the collection (check mode from a read-only copy)."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare(1) is not available: cannot make a read-only mount")
    copy = tmp_path / "ansible_collections" / "sensa" / "infra"
    shutil.copytree(REPO_ROOT, copy, symlinks=True, ignore=shutil.ignore_patterns(".git", ".venv", ".local", "collections", ".terraform"))
    script = (
        'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && ! touch "$1/probe" 2>/dev/null && '
        'cd "$1" && exec "$2" playbooks/provision.yml --check -i inventories/dev -i tests/terraform/inventory -e sensa_developer_id=alice'
    )
    proc = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", str(copy), os.path.join(os.path.dirname(sys.executable), "ansible-playbook")],
        env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tmp_path), ANSIBLE_CONFIG=str(copy / "ansible.cfg"), **stack.env),
        capture_output=True, text=True, timeout=600, check=False,
    )
    if proc.returncode != 0 and "unshare failed" in proc.stderr:
        pytest.skip("no mount namespaces here: %s" % proc.stderr.strip())
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-3000:]
    assert "development/alice: check mode, planned only:" in " ".join(proc.stdout.split()), proc.stdout[-3000:]


def test_teardown_is_refused_without_confirmation_and_then_leaves_nothing(stack):
    refused = stack.run(terraform_stack_state="absent")
    assert refused.returncode != 0
    assert "Refusing to destroy development/alice" in flat(refused)
    assert "sensa-dev-alice-db" in {db["DBInstanceIdentifier"] for db in boto("rds", stack.moto_url).describe_db_instances()["DBInstances"]}
    results = {}
    threads = [
        threading.Thread(target=lambda dev=dev: results.setdefault(dev, stack.run(
            developer=dev, terraform_stack_state="absent", terraform_stack_confirm_destroy="development/" + dev, terraform_stack_purge_workspace=True)))
        for dev in ("alice", "bob")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for dev, result in results.items():
        assert result.returncode == 0, result
        assert result.recap["localhost"]["changed"] >= 1
        assert leftovers(stack.moto_url, "sensa-dev-" + dev, app_secret_prefix="sensa/development/%s/" % dev) == {}
        assert STATE_KEY % dev not in stack.state_objects()
        assert_clean(stack, result)
