"""db_secret on AnsibleAWSModule: amazon.aws's options and aliases, errors through fail_json_aws.

The module runs in-process against moto's in-memory Secrets Manager (moto's mock decorator);
nothing leaves the process.
"""

import json

import boto3
import pytest
from ansible.module_utils.testing import patch_module_args
from moto import mock_aws

from ansible_collections.sensa.infra.plugins.modules import db_secret

VALUE = {"engine": "postgres", "host": "db.internal", "port": 5432, "dbname": "sensa", "username": "sensa_app_a"}
PASSWORD = "Secr3t-Passw0rd-never-shown-1234"


def run(capsys, **args):
    with patch_module_args(args), pytest.raises(SystemExit) as ended:
        db_secret.main()
    out = capsys.readouterr().out
    assert PASSWORD not in out
    return ended.value.code, json.loads(out)


@pytest.fixture
def aws(monkeypatch):
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    with mock_aws():
        yield


def test_amazon_aws_options_and_aliases_reach_secrets_manager(aws, capsys):
    # aws_region is amazon.aws's alias of region; validate_certs and aws_ca_bundle are its options too.
    code, created = run(capsys, backend="secretsmanager", secret_id="sensa/dev/app", operation="ensure_current",
                        value=VALUE, password=PASSWORD, aws_region="eu-west-1", validate_certs=True)
    assert code == 0 and created["changed"] is True and created["status"]["exists"] is True
    code, read = run(capsys, backend="secretsmanager", secret_id="sensa/dev/app", operation="get",
                     region="eu-west-1")
    assert code == 0 and read["found"] is True and read["fields"] == VALUE
    assert read["version_id"] == created["version_id"]


def test_aws_errors_come_through_fail_json_aws(aws, capsys):
    run(capsys, backend="secretsmanager", secret_id="sensa/dev/app", operation="ensure_current", value=VALUE,
        password=PASSWORD, region="eu-west-1")
    # A secret scheduled for deletion: Secrets Manager answers InvalidRequestException on reads.
    boto3.client("secretsmanager", region_name="eu-west-1").delete_secret(SecretId="sensa/dev/app",
                                                                          RecoveryWindowInDays=7)
    code, failed = run(capsys, backend="secretsmanager", secret_id="sensa/dev/app", operation="get",
                       region="eu-west-1")
    assert code == 1
    assert failed["msg"].startswith("GetSecretValue on Secrets Manager secret sensa/dev/app failed: ")
    assert "InvalidRequestException" in failed["msg"] and failed["error"]["code"] == "InvalidRequestException"
    # fail_json_aws adds botocore's error and response metadata, as every amazon.aws module does
    assert failed["error"]["code"] and "response_metadata" in failed


def test_hand_written_aliases_are_gone(aws, capsys):
    code, failed = run(capsys, backend="secretsmanager", secret_id="x", operation="status", aws_endpoint="x")
    assert code == 1 and "Unsupported parameters" in failed["msg"] and "aws_endpoint" in failed["msg"]


def test_file_backend_needs_no_aws(tmp_path, capsys):
    code, created = run(capsys, backend="file", path=str(tmp_path / "app.json"), operation="ensure_current",
                        value=VALUE, password=PASSWORD)
    assert code == 0 and created["changed"] is True and created["fields"] == VALUE
