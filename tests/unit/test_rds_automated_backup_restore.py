"""sensa.infra.rds_automated_backup_restore without AWS.

moto cannot answer the cross-region point-in-time restore (no StartDBInstanceAutomatedBackupsReplication,
and its RestoreDBInstanceToPointInTime ignores SourceDBInstanceAutomatedBackupsArn; see
tests/integration/restore/test_restore_drill_aws.py). Here the module's requests are checked
against botocore's own RDS service model (botocore.stub.Stubber validates every parameter and its
type) and the answers are AWS's documented response shapes.
"""

import datetime

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper
from botocore.stub import Stubber

from ansible_collections.sensa.infra.plugins.modules import rds_automated_backup_restore as mod

ARN = "arn:aws:rds:eu-central-1:123456789012:auto-backup:ab-3hmvq2tlkrlxk3bexample"
UTC = datetime.timezone.utc
PARAMS = dict(db_instance_identifier="sensa-prod-db-drill-20261201t0900z", db_instance_class="db.t4g.micro",
              db_subnet_group_name="sensa-dr-db", vpc_security_group_ids=["sg-0123456789abcdef0"],
              publicly_accessible=False, multi_az=False, deletion_protection=False,
              tags={"sensa:restore-drill": "20261201t0900z"})


def backups(latest, earliest=datetime.datetime(2026, 11, 24, tzinfo=UTC), arn=ARN):
    return {"DBInstanceAutomatedBackupsArn": arn, "DBInstanceIdentifier": "sensa-prod-db", "Region": "eu-west-1",
            "Status": "replicating", "KmsKeyId": "arn:aws:kms:eu-central-1:123456789012:key/mrk-1",
            "RestoreWindow": {"EarliestTime": earliest, "LatestTime": latest}}


@pytest.fixture
def client():
    rds = boto3.client("rds", region_name="eu-central-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    with Stubber(rds) as stub:
        # As the module's module.client(..., retry_decorator=...) wraps it (aws_retry=True is the wrapper's).
        yield RetryingBotoClientWrapper(rds, AWSRetry.jittered_backoff(retries=1)), stub
        stub.assert_no_pending_responses()


def test_the_restore_request_names_the_replicated_backups_not_a_source_instance(client):
    rds, stub = client
    when = datetime.datetime(2026, 12, 1, 8, 55, tzinfo=UTC)
    request = mod.build_request(PARAMS, ARN, when)
    assert "SourceDBInstanceIdentifier" not in request and "KmsKeyId" not in request
    assert request["SourceDBInstanceAutomatedBackupsArn"] == ARN and request["RestoreTime"] == when
    assert request["Tags"] == [{"Key": "sensa:restore-drill", "Value": "20261201t0900z"}]
    stub.add_response("restore_db_instance_to_point_in_time",
                      {"DBInstance": {"DBInstanceIdentifier": PARAMS["db_instance_identifier"], "DBInstanceStatus": "creating"}},
                      expected_params=request)
    # Stubber raises ParamValidationError for a parameter the RDS model does not have.
    assert rds.restore_db_instance_to_point_in_time(aws_retry=True, **request)["DBInstance"]["DBInstanceStatus"] == "creating"
    latest = mod.build_request(PARAMS, ARN, None)
    assert latest["UseLatestRestorableTime"] is True and "RestoreTime" not in latest
    stub.add_response("restore_db_instance_to_point_in_time", {"DBInstance": {}}, expected_params=latest)
    rds.restore_db_instance_to_point_in_time(**latest)


def test_the_replicated_backups_are_found_by_arn_or_by_the_source_instance(client):
    rds, stub = client
    found = backups(datetime.datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    stub.add_response("describe_db_instance_automated_backups", {"DBInstanceAutomatedBackups": [found]},
                      expected_params={"DBInstanceAutomatedBackupsArn": ARN})
    assert mod.find_backups(rds, ARN, "")["DBInstanceAutomatedBackupsArn"] == ARN
    # A region's own instance's backups (no ARN from elsewhere, as moto answers) are not the replicated ones.
    own = {"DBInstanceIdentifier": "sensa-prod-db", "Status": "active"}
    stub.add_response("describe_db_instance_automated_backups", {"DBInstanceAutomatedBackups": [own, found]},
                      expected_params={"DBInstanceIdentifier": "sensa-prod-db"})
    assert mod.find_backups(rds, "", "sensa-prod-db")["DBInstanceAutomatedBackupsArn"] == ARN
    stub.add_response("describe_db_instance_automated_backups", {"DBInstanceAutomatedBackups": [own]},
                      expected_params={"DBInstanceIdentifier": "sensa-prod-db"})
    assert mod.find_backups(rds, "", "sensa-prod-db") is None
    stub.add_client_error("describe_db_instance_automated_backups", service_error_code="DBInstanceAutomatedBackupNotFound",
                          http_status_code=404, expected_params={"DBInstanceAutomatedBackupsArn": ARN})
    assert mod.find_backups(rds, ARN, "") is None


def test_the_restore_window_decides_whether_a_time_can_be_restored():
    latest = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    window = backups(latest)
    assert mod.window_holds(window, latest - datetime.timedelta(minutes=5))[0] is True
    holds, reason = mod.window_holds(window, latest + datetime.timedelta(seconds=1))
    assert holds is False and "after the latest restorable time" in reason
    holds, reason = mod.window_holds(window, datetime.datetime(2026, 11, 1, tzinfo=UTC))
    assert holds is False and "before the earliest restorable time" in reason
    assert mod.window_holds(window, None)[0] is True
    # Replication that has not copied anything yet has no window: nothing can be restored.
    assert mod.window_holds({"DBInstanceAutomatedBackupsArn": ARN}, None)[0] is False


def test_restore_times_are_read_as_utc():
    assert mod.parse_time("2026-12-01T08:55:00Z") == datetime.datetime(2026, 12, 1, 8, 55, tzinfo=UTC)
    assert mod.parse_time("2026-12-01T08:55:00") == datetime.datetime(2026, 12, 1, 8, 55, tzinfo=UTC)
    with pytest.raises(ValueError):
        mod.parse_time("yesterday")
