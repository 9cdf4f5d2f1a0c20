"""The AWS side of playbooks/restore_drill.yml against moto (tests/support/moto_server.py).

moto answers: DescribeDBInstances, CreateDBSnapshot, DescribeDBSnapshots, CopyDBSnapshot across
regions with a KMS key, RestoreDBInstanceFromDBSnapshot, RestoreDBInstanceToPointInTime,
DeleteDBInstance and DeleteDBSnapshot. It does not run PostgreSQL (so the database-level
checks stay with the local drill) and does not implement
StartDBInstanceAutomatedBackupsReplication (the DR replication Terraform manages).
"""

import json
import os

import boto3
import pytest
from restore_helpers import reports

from support import moto_server
from support.ansible_run import run_playbook
from support.collection import REPO_ROOT

SOURCE_REGION = "eu-west-1"
DR_REGION = "eu-central-1"
INSTANCE = "sensa-prod-db"


def _network(url, region, cidr):
    ec2 = boto3.client("ec2", endpoint_url=url, region_name=region)
    vpc = ec2.create_vpc(CidrBlock=cidr + ".0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock="%s.%d.0/24" % (cidr, i), AvailabilityZone=region + zone)["Subnet"]["SubnetId"]
               for i, zone in ((1, "a"), (2, "b"))]
    group = ec2.create_security_group(GroupName="sensa-db", Description="database", VpcId=vpc)["GroupId"]
    rds = boto3.client("rds", endpoint_url=url, region_name=region)
    rds.create_db_subnet_group(DBSubnetGroupName="sensa-db", DBSubnetGroupDescription="database", SubnetIds=subnets)
    key = boto3.client("kms", endpoint_url=url, region_name=region).create_key(Description="sensa db")["KeyMetadata"]["Arn"]
    return vpc, group, key


@pytest.fixture(scope="module")
def aws(tmp_path_factory):
    saved = dict(os.environ)
    os.environ.update(moto_server.AWS_TEST_ENV)
    proc, url = moto_server.start(str(tmp_path_factory.mktemp("moto") / "moto.log"))
    try:
        vpc, group, key = _network(url, SOURCE_REGION, "10.20")
        dr_vpc, dr_group, dr_key = _network(url, DR_REGION, "10.30")
        boto3.client("rds", endpoint_url=url, region_name=SOURCE_REGION).create_db_instance(
            DBInstanceIdentifier=INSTANCE, DBInstanceClass="db.t4g.micro", Engine="postgres", EngineVersion="15.8",
            MasterUsername="sensa_master", MasterUserPassword="moto-only-not-a-secret", AllocatedStorage=20,
            DBSubnetGroupName="sensa-db", VpcSecurityGroupIds=[group], StorageEncrypted=True, KmsKeyId=key,
            BackupRetentionPeriod=7, DBName="sensa", PubliclyAccessible=False)
        yield dict(url=url, vpc=vpc, dr_vpc=dr_vpc, dr_group=dr_group, dr_key=dr_key)
    finally:
        moto_server.stop(proc)
        os.environ.clear()
        os.environ.update(saved)


def drill(aws, tmp_path, **extra):
    tmp_path.mkdir(parents=True, exist_ok=True)
    inventory = str(tmp_path / "hosts.yml")
    with open(inventory, "w") as handle:
        json.dump({"all": {"children": {"sensa_databases": {"hosts": {"prod_db": {
            "ansible_connection": "local",
            "ansible_python_interpreter": os.path.join(REPO_ROOT, ".venv", "bin", "python"),
        }}}}}}, handle)
    extra_vars = {"sensa_local_dir": str(tmp_path), "restore_drill_rds_instance_id": INSTANCE,
                  "restore_drill_aws": {"region": SOURCE_REGION, "endpoint_url": aws["url"]}}
    extra_vars.update(extra)
    return run_playbook(os.path.join(REPO_ROOT, "playbooks", "restore_drill.yml"), inventory=inventory,
                        extra_vars=extra_vars, env=moto_server.AWS_TEST_ENV)


def rds(aws, region=SOURCE_REGION):
    return boto3.client("rds", endpoint_url=aws["url"], region_name=region)


def leftovers(aws, region):
    client = rds(aws, region)
    instances = [i["DBInstanceIdentifier"] for i in client.describe_db_instances()["DBInstances"] if "-drill-" in i["DBInstanceIdentifier"]]
    snapshots = [s["DBSnapshotIdentifier"] for s in client.describe_db_snapshots()["DBSnapshots"] if "-drill-" in s["DBSnapshotIdentifier"]]
    return instances + snapshots


@pytest.mark.parametrize("method", ["rds_snapshot", "rds_pitr"])
def test_rds_drill_restores_into_the_source_vpc_and_deletes_everything(aws, tmp_path, method):
    result = drill(aws, tmp_path, restore_drill_method=method)
    assert result.returncode == 0, result
    assert "restore drill PASSED" in result.stdout and "database checks NOT RUN" in result.stdout
    [report] = reports(str(tmp_path))
    assert report["passed"] is True and report["method"] == method
    checks = dict((c["name"], c) for c in report["checks"])
    assert set(checks) == {"instance_available", "private_network", "encrypted", "engine"}
    assert aws["vpc"] in checks["private_network"]["detail"]
    assert report["not_run"][0]["name"] == "database"
    assert leftovers(aws, SOURCE_REGION) == []


def test_rds_drill_in_the_dr_region_from_a_copied_snapshot(aws, tmp_path):
    result = drill(aws, tmp_path, restore_drill_method="rds_snapshot", restore_region=DR_REGION,
                   restore_drill_dr_db_subnet_group="sensa-db", restore_drill_dr_security_group_ids=[aws["dr_group"]],
                   restore_drill_dr_kms_key_id=aws["dr_key"])
    assert result.returncode == 0, result
    [report] = reports(str(tmp_path))
    assert report["passed"] is True and report["region"] == DR_REGION
    checks = dict((c["name"], c) for c in report["checks"])
    assert aws["dr_vpc"] in checks["private_network"]["detail"]
    assert leftovers(aws, DR_REGION) == [] and leftovers(aws, SOURCE_REGION) == []


def test_rds_drill_fails_cleanly_for_an_unknown_instance_and_a_pitr_in_another_region(aws, tmp_path):
    result = drill(aws, tmp_path / "unknown", restore_drill_method="rds_snapshot", restore_drill_rds_instance_id="no-such-db")
    assert result.returncode != 0 and "restore drill FAILED at 'Read the source instance'" in result.stdout, result
    result = drill(aws, tmp_path / "pitr", restore_drill_method="rds_pitr", restore_region=DR_REGION)
    assert result.returncode != 0 and "cannot address" in result.stdout, result
    assert leftovers(aws, SOURCE_REGION) == [] and leftovers(aws, DR_REGION) == []
