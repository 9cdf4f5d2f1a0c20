"""rds_snapshot_copy on AnsibleAWSModule, in-process against moto's in-memory RDS (mock decorator)."""

import json

import boto3
import pytest
from ansible.module_utils.testing import patch_module_args
from moto import mock_aws

from ansible_collections.sensa.infra.plugins.modules import rds_snapshot_copy


def run(capsys, **args):
    with patch_module_args(args), pytest.raises(SystemExit) as ended:
        rds_snapshot_copy.main()
    return ended.value.code, json.loads(capsys.readouterr().out)


@pytest.fixture
def source_snapshot(monkeypatch):
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        rds = boto3.client("rds", region_name="eu-west-1")
        rds.create_db_instance(DBInstanceIdentifier="sensa-dev", DBInstanceClass="db.t4g.micro", Engine="postgres",
                               MasterUsername="sensa_master", MasterUserPassword="x" * 20, AllocatedStorage=20)
        snap = rds.create_db_snapshot(DBInstanceIdentifier="sensa-dev", DBSnapshotIdentifier="sensa-dev-drill")
        yield snap["DBSnapshot"]["DBSnapshotArn"]


def test_copy_check_mode_idempotence_and_delete(source_snapshot, capsys):
    args = dict(aws_region="eu-central-1", db_snapshot_identifier="sensa-dev-drill-copy",
                source_db_snapshot_arn=source_snapshot, source_region="eu-west-1", wait_timeout=30)
    with patch_module_args(dict(args, _ansible_check_mode=True)), pytest.raises(SystemExit):
        rds_snapshot_copy.main()
    assert json.loads(capsys.readouterr().out)["changed"] is True
    assert boto3.client("rds", region_name="eu-central-1").describe_db_snapshots()["DBSnapshots"] == []

    code, copied = run(capsys, **args)
    assert code == 0 and copied["changed"] is True
    assert copied["snapshot"]["db_snapshot_identifier"] == "sensa-dev-drill-copy"
    code, again = run(capsys, **args)
    assert code == 0 and again["changed"] is False

    code, deleted = run(capsys, region="eu-central-1", db_snapshot_identifier="sensa-dev-drill-copy", state="absent")
    assert code == 0 and deleted["changed"] is True
    assert boto3.client("rds", region_name="eu-central-1").describe_db_snapshots()["DBSnapshots"] == []


def test_aws_error_comes_through_fail_json_aws(source_snapshot, capsys):
    code, failed = run(capsys, region="eu-central-1", db_snapshot_identifier="copy",
                       source_db_snapshot_arn=source_snapshot.replace("sensa-dev-drill", "no-such-snapshot"),
                       source_region="eu-west-1")
    assert code == 1 and failed["msg"].startswith("could not copy ")
    assert failed["error"]["code"] and "response_metadata" in failed
