"""The AWS side of playbooks/restore_drill.yml against moto (tests/support/moto_server.py).

moto answers: DescribeDBInstances, CreateDBSnapshot, DescribeDBSnapshots, CopyDBSnapshot across
regions with a KMS key, RestoreDBInstanceFromDBSnapshot, RestoreDBInstanceToPointInTime from a
source instance of the same region, DeleteDBInstance, DeleteDBSnapshot, and
DescribeDBInstanceAutomatedBackups (a region's own instances only).

What moto cannot answer, and how far these tests go instead:

* moto runs no PostgreSQL behind an instance's endpoint. STAND-IN (the one substitution of
  these tests, in the test inventory only, see ``drill()``): the source instance's endpoint is
  the seeded source cluster of this suite, and the temporary instance's endpoint is mapped to a
  local cluster restored from a real backup of that source (``restore_drill_rds_target_login_overrides``).
  The database-level checks (schema version, row counts between the two reads of the source,
  checksums, RLS, extensions, the application login) really run, through the db_path role
  (backend ``none``: the stand-ins listen on 127.0.0.1; the path's own tests are
  tests/integration/private_path).
* moto does not implement StartDBInstanceAutomatedBackupsReplication, so no region ever holds
  replicated automated backups, and it ignores SourceDBInstanceAutomatedBackupsArn in
  RestoreDBInstanceToPointInTime (it copies the instance named by SourceDBInstanceIdentifier in
  its own region). The cross-region point-in-time restore is tested here up to the search for
  the replicated backups (moto answers "none", the drill fails naming the replication and
  leaves nothing behind); the restore request itself is checked against botocore's RDS model
  in tests/unit/test_rds_automated_backup_restore.py.
"""

import json
import os
import shutil
import tempfile

import boto3
import pytest
from restore_helpers import DATABASE, reports

from ansible_collections.sensa.infra.plugins.module_utils import backup_restore, pg_cluster, scram
from support import moto_server
from support.ansible_run import run_playbook
from support.collection import REPO_ROOT

SOURCE_REGION = "eu-west-1"
DR_REGION = "eu-central-1"
INSTANCE = "sensa-prod-db"
INSTANCE_CHECKS = {"instance_available", "private_network", "encrypted", "engine"}
DATABASE_CHECKS = {"schema_version", "no_migration_in_progress", "row_counts", "data_checksums",
                   "rls_enabled_and_forced", "extensions", "app_login"}


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


@pytest.fixture(scope="module")
def standin(source):
    """STAND-IN for the temporary RDS instance's database: a local cluster restored from a
    logical backup of the seeded source (taken and restored by the drill's own code). Like an
    RDS restore it keeps the master user and its password (the source superuser's, set as a
    SCRAM verifier) and listens on 127.0.0.1."""
    cluster = source[0]
    work = tempfile.mkdtemp(prefix="sd-rds-")
    restored = pg_cluster.Cluster(os.path.join(work, "restored"), engine=cluster.engine)
    try:
        backup = os.path.join(work, "backup")
        backup_restore.take_logical(cluster.conninfo(DATABASE), cluster.bindir, backup)
        backup_restore.restore_logical(backup, restored)
        restored.psql("ALTER ROLE %s PASSWORD '%s'" % (restored.superuser, scram.build_verifier(cluster.superuser_password)))
        yield restored
    finally:
        restored.destroy()
        shutil.rmtree(work, ignore_errors=True)


def drill(aws, source, standin, tmp_path, check=False, **extra):
    cluster = source[0]
    tmp_path.mkdir(parents=True, exist_ok=True)
    inventory = str(tmp_path / "hosts.yml")
    with open(inventory, "w") as handle:
        json.dump({"all": {"children": {"sensa_databases": {"hosts": {"prod_db": {
            "ansible_connection": "local",
            "ansible_python_interpreter": os.path.join(REPO_ROOT, ".venv", "bin", "python"),
            # STAND-IN (moto runs no database): the source instance's endpoint, as terraform_stack
            # would publish it, is the seeded source cluster; the master password comes from the
            # environment, never a file or a command line.
            "sensa_db_login": {"login_host": "127.0.0.1", "login_port": cluster.port, "login_user": cluster.superuser,
                               "login_password": "{{ lookup('ansible.builtin.env', 'SENSA_TEST_PG_PASSWORD') }}",
                               "login_db": DATABASE, "ssl_mode": "prefer"},
            # STAND-IN: the temporary instance's endpoint (moto's address, which answers nothing) is
            # mapped to the local cluster restored from a backup of the source.
            "restore_drill_rds_target_login_overrides": {"login_host": "127.0.0.1", "login_port": standin.port},
            "db_path_backend": "none",
            "db_path_state_dir": str(tmp_path / "path-state"),
        }}}}}}, handle)
    extra_vars = {"sensa_local_dir": str(tmp_path), "restore_drill_rds_instance_id": INSTANCE,
                  "restore_drill_aws": {"region": SOURCE_REGION, "endpoint_url": aws["url"]}}
    extra_vars.update(extra)
    env = dict(moto_server.AWS_TEST_ENV, SENSA_TEST_PG_PASSWORD=cluster.superuser_password)
    return run_playbook(os.path.join(REPO_ROOT, "playbooks", "restore_drill.yml"), inventory=inventory,
                        extra_vars=extra_vars, env=env, check=check)


def rds(aws, region=SOURCE_REGION):
    return boto3.client("rds", endpoint_url=aws["url"], region_name=region)


def leftovers(aws, region):
    client = rds(aws, region)
    instances = [i["DBInstanceIdentifier"] for i in client.describe_db_instances()["DBInstances"] if "-drill-" in i["DBInstanceIdentifier"]]
    snapshots = [s["DBSnapshotIdentifier"] for s in client.describe_db_snapshots()["DBSnapshots"] if "-drill-" in s["DBSnapshotIdentifier"]]
    return instances + snapshots


def checks_of(report):
    return dict((c["name"], c) for c in report["checks"])


@pytest.mark.parametrize("method", ["rds_snapshot", "rds_pitr"])
def test_rds_drill_checks_the_restored_database_and_deletes_everything(aws, source, standin, tmp_path, method):
    result = drill(aws, source, standin, tmp_path, restore_drill_method=method)
    assert result.returncode == 0, result
    assert "restore drill PASSED" in result.stdout and "NOT RUN" not in result.stdout
    [report] = reports(str(tmp_path))
    assert report["passed"] is True and report["method"] == method and report["not_run"] == []
    checks = checks_of(report)
    assert set(checks) == INSTANCE_CHECKS | DATABASE_CHECKS
    assert all(c["passed"] for c in checks.values()), checks
    assert aws["vpc"] in checks["private_network"]["detail"]
    # The checks ran on the stand-in: the source's schema version, its counts on both reads.
    source_facts = backup_restore.read_metadata(os.path.dirname(standin.base) + "/backup")["source"]
    assert checks["schema_version"]["source"] == source_facts["schema_version"] == checks["schema_version"]["restored"]
    assert "before and after the backup point" in checks["row_counts"]["detail"]
    assert "sensa_app_a logged in" in checks["app_login"]["detail"]
    if method == "rds_pitr":
        # Restored to a moment between the two reads (whole seconds, UTC), not the latest restorable time.
        assert report["backup"].startswith("automated backups at ") and report["backup_taken_at"].endswith("Z")
    assert leftovers(aws, SOURCE_REGION) == []
    assert "moto-only-not-a-secret" not in result.output and source[0].superuser_password not in result.output


def test_rds_drill_in_the_dr_region_from_a_copied_snapshot(aws, source, standin, tmp_path):
    result = drill(aws, source, standin, tmp_path, restore_drill_method="rds_snapshot", restore_region=DR_REGION,
                   restore_drill_dr_db_subnet_group="sensa-db", restore_drill_dr_security_group_ids=[aws["dr_group"]],
                   restore_drill_dr_kms_key_id=aws["dr_key"])
    assert result.returncode == 0, result
    [report] = reports(str(tmp_path))
    assert report["passed"] is True and report["region"] == DR_REGION
    checks = checks_of(report)
    assert set(checks) == INSTANCE_CHECKS | DATABASE_CHECKS
    assert aws["dr_vpc"] in checks["private_network"]["detail"]
    assert leftovers(aws, DR_REGION) == [] and leftovers(aws, SOURCE_REGION) == []


def test_rds_drill_pitr_in_the_dr_region_needs_the_replicated_backups(aws, source, standin, tmp_path):
    """moto has no automated backup replication: the search finds none, and the drill says so."""
    dr = dict(restore_drill_method="rds_pitr", restore_region=DR_REGION, restore_drill_dr_db_subnet_group="sensa-db",
              restore_drill_dr_security_group_ids=[aws["dr_group"]], restore_drill_dr_kms_key_id=aws["dr_key"])
    result = drill(aws, source, standin, tmp_path / "by-source", **dr)
    assert result.returncode != 0, result
    assert "restore drill FAILED at 'Restore the replicated automated backups" in result.stdout, result
    assert "no automated backups replicated from %s in %s" % (INSTANCE, DR_REGION) in result.stdout
    arn = "arn:aws:rds:%s:123456789012:auto-backup:ab-drilltest" % DR_REGION
    result = drill(aws, source, standin, tmp_path / "by-arn", restore_drill_dr_automated_backups_arn=arn, **dr)
    assert result.returncode != 0 and "no automated backups with ARN %s" % arn in result.stdout, result
    [report] = reports(str(tmp_path / "by-arn"))
    assert report["passed"] is False and report["region"] == DR_REGION
    assert leftovers(aws, DR_REGION) == [] and leftovers(aws, SOURCE_REGION) == []


def test_rds_drill_in_check_mode_restores_nothing(aws, source, standin, tmp_path):
    snapshots = len(rds(aws).describe_db_snapshots()["DBSnapshots"])
    result = drill(aws, source, standin, tmp_path, check=True, restore_drill_method="rds_snapshot")
    assert result.returncode == 0, result
    assert "check mode, nothing restored" in result.stdout and "as %s-drill-" % INSTANCE in result.stdout
    assert len(rds(aws).describe_db_snapshots()["DBSnapshots"]) == snapshots
    assert leftovers(aws, SOURCE_REGION) == [] and reports(str(tmp_path)) == []


def test_rds_drill_fails_cleanly_for_an_unknown_instance_and_an_unknown_snapshot_without_counts(aws, source, standin, tmp_path):
    result = drill(aws, source, standin, tmp_path / "unknown", restore_drill_method="rds_snapshot",
                   restore_drill_rds_instance_id="no-such-db")
    assert result.returncode != 0 and "restore drill FAILED at 'Read the source instance'" in result.stdout, result
    result = drill(aws, source, standin, tmp_path / "snapshot", restore_drill_method="rds_snapshot",
                   restore_drill_rds_snapshot="some-old-snapshot")
    assert result.returncode != 0 and "needs restore_drill_expected_row_counts" in result.stdout, result
    assert leftovers(aws, SOURCE_REGION) == [] and leftovers(aws, DR_REGION) == []


def test_rds_drill_fails_on_a_broken_restore_and_still_deletes_the_instance(aws, source, standin, tmp_path):
    """Last in this module: it damages the stand-in (the restored database) as a broken restore would."""
    standin.psql("ALTER TABLE public.user_progress NO FORCE ROW LEVEL SECURITY", dbname=DATABASE)
    standin.psql("DELETE FROM public.analogy_feedback WHERE ctid IN (SELECT ctid FROM public.analogy_feedback LIMIT 1)",
                 dbname=DATABASE)
    result = drill(aws, source, standin, tmp_path, restore_drill_method="rds_snapshot")
    assert result.returncode != 0 and "restore drill FAILED" in result.stdout, result
    [report] = reports(str(tmp_path))
    checks = checks_of(report)
    assert report["passed"] is False
    assert not checks["rls_enabled_and_forced"]["passed"] and "user_progress" in checks["rls_enabled_and_forced"]["detail"]
    assert not checks["row_counts"]["passed"] and "analogy_feedback" in checks["row_counts"]["detail"]
    assert checks["schema_version"]["passed"] and checks["instance_available"]["passed"]
    assert leftovers(aws, SOURCE_REGION) == []
