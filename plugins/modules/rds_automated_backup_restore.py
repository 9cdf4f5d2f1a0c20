#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: rds_automated_backup_restore
short_description: Restore an RDS instance to a point in time from (replicated) automated backups
version_added: 1.1.0
description:
  - Restores a new DB instance in the module's region to a point in time from the automated backups of a source
    instance, addressed by their ARN (C(SourceDBInstanceAutomatedBackupsArn) of C(RestoreDBInstanceToPointInTime)).
    In the disaster-recovery region these are the backups that cross-region automated backup replication keeps there
    (C(files/terraform/modules/dr_backups); its ARN is the Terraform output C(dr_automated_backups_arn)).
  - Exists because M(amazon.aws.rds_instance) restores to a point in time only from a source instance in its own
    region (C(SourceDBInstanceIdentifier)), which in a regional disaster is the instance that is gone.
  - Without O(source_automated_backups_arn), finds the replicated backups of O(source_db_instance_identifier) in the
    module's region (C(DescribeDBInstanceAutomatedBackups)); fails naming the region when there are none.
  - Before restoring, checks the backups' restore window (C(RestoreWindow)) holds O(restore_time), waiting up to
    O(restore_window_timeout) seconds for a time not yet replicated.
  - Does nothing when an instance named O(db_instance_identifier) already exists (it is returned as found).
    Deleting the instance is M(amazon.aws.rds_instance) with C(state=absent).
author:
  - Sensa Learn platform team (@sensa-learn)
options:
  db_instance_identifier:
    description:
      - Name of the new instance in the module's region.
    type: str
    required: true
  source_automated_backups_arn:
    description:
      - ARN of the automated backups to restore from (in the module's region).
      - Empty finds them by O(source_db_instance_identifier).
    type: str
    default: ''
  source_db_instance_identifier:
    description:
      - Identifier of the source instance, to find its replicated automated backups when
        O(source_automated_backups_arn) is empty.
    type: str
    default: ''
  restore_time:
    description:
      - The point in time to restore to (ISO 8601, UTC when no offset is given).
      - Empty restores to the latest restorable time of the backups.
    type: str
    default: ''
  restore_window_timeout:
    description:
      - Seconds to wait until the backups' restore window reaches O(restore_time) (replication lags the source by
        minutes). 0 does not wait.
    type: int
    default: 900
  db_instance_class:
    description:
      - Class of the new instance.
    type: str
    required: true
  db_subnet_group_name:
    description:
      - DB subnet group of the new instance (in the module's region).
    type: str
    required: true
  vpc_security_group_ids:
    description:
      - Security groups of the new instance.
    type: list
    elements: str
    default: []
  kms_key_id:
    description:
      - The KMS key (ARN) in the module's region the replicated backups must be encrypted with, e.g. the DR key of
        C(files/terraform/modules/dr_backups) (Terraform output C(dr_kms_key_arn)). The module fails before restoring
        when the backups name another key.
      - C(RestoreDBInstanceToPointInTime) takes no key; the new instance is encrypted with the key the replication
        was started with (C(StartDBInstanceAutomatedBackupsReplication) C(KmsKeyId), set by Terraform), so this is a
        check, not a choice.
    type: str
    default: ''
  publicly_accessible:
    description:
      - Whether the new instance gets a public address.
    type: bool
    default: false
  multi_az:
    description:
      - Whether the new instance is Multi-AZ.
    type: bool
    default: false
  deletion_protection:
    description:
      - Deletion protection of the new instance.
    type: bool
    default: false
  tags:
    description:
      - Tags of the new instance.
    type: dict
    default: {}
  wait:
    description:
      - Wait until the new instance is available.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait for the new instance.
    type: int
    default: 3600
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    support: full
    description: Finds the backups and checks the restore window, then reports the restore it would start.
  diff_mode:
    support: none
    description: Nothing to diff.
seealso:
  - module: amazon.aws.rds_instance
  - module: sensa.infra.rds_snapshot_copy
"""

EXAMPLES = r"""
- name: Restore production in the DR region from its replicated automated backups
  sensa.infra.rds_automated_backup_restore:
    region: eu-central-1
    db_instance_identifier: sensa-prod-db-drill-20261201t0900z
    source_automated_backups_arn: "{{ sensa_terraform_outputs.dr_automated_backups_arn }}"
    restore_time: "2026-12-01T08:55:00Z"
    db_instance_class: db.t4g.micro
    db_subnet_group_name: sensa-dr-db
    vpc_security_group_ids: [sg-0123456789abcdef0]
    kms_key_id: "{{ sensa_terraform_outputs.dr_kms_key_arn }}"
  register: restored
"""

RETURN = r"""
instance:
  description: The new instance as C(DescribeDBInstances) returns it, in snake case (planned values in check mode).
  returned: always
  type: dict
automated_backups:
  description: The automated backups restored from, in snake case (ARN, source, restore window, status).
  returned: always
  type: dict
restore_time:
  description: The point in time restored to, or C(latest) for the latest restorable time.
  returned: always
  type: str
"""

import datetime
import time

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

try:
    import botocore
except ImportError:  # AnsibleAWSModule reports the missing library
    botocore = None


def parse_time(text):
    value = datetime.datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)


def find_instance(client, identifier):
    try:
        found = client.describe_db_instances(DBInstanceIdentifier=identifier, aws_retry=True)["DBInstances"]
    except is_boto3_error_code("DBInstanceNotFound"):
        return None
    return found[0] if found else None


def find_backups(client, arn, source):
    """The automated backups of ``arn`` (or of the source instance) in the client's region, or None."""
    if arn:
        try:
            found = client.describe_db_instance_automated_backups(DBInstanceAutomatedBackupsArn=arn, aws_retry=True)
        except is_boto3_error_code("DBInstanceAutomatedBackupNotFound"):
            return None
        matches = [b for b in found.get("DBInstanceAutomatedBackups", []) if b.get("DBInstanceAutomatedBackupsArn") == arn]
    else:
        try:
            found = client.describe_db_instance_automated_backups(DBInstanceIdentifier=source, aws_retry=True)
        except is_boto3_error_code("DBInstanceAutomatedBackupNotFound"):
            return None
        # The replicated backups carry the source's ARN; a region's own instance backups do not come from elsewhere.
        matches = [b for b in found.get("DBInstanceAutomatedBackups", [])
                   if b.get("DBInstanceIdentifier") == source and b.get("DBInstanceAutomatedBackupsArn")]
    return matches[0] if matches else None


def window_holds(backups, when):
    """(holds, reason): whether the backups' restore window reaches ``when`` (None: the latest)."""
    window = backups.get("RestoreWindow") or {}
    earliest, latest = window.get("EarliestTime"), window.get("LatestTime")
    if when is None:
        return bool(latest), "latest restorable time %s" % (latest or "unknown (no restore window yet)")
    if earliest and when < earliest:
        return False, "%s is before the earliest restorable time %s" % (when.isoformat(), earliest.isoformat())
    if not latest or when > latest:
        return False, "%s is after the latest restorable time %s" % (
            when.isoformat(), latest.isoformat() if latest else "(none yet)")
    return True, "within %s .. %s" % (earliest.isoformat() if earliest else "?", latest.isoformat())


def build_request(params, arn, when):
    """The RestoreDBInstanceToPointInTime request: from the backups' ARN, never a source instance."""
    request = dict(SourceDBInstanceAutomatedBackupsArn=arn, TargetDBInstanceIdentifier=params["db_instance_identifier"],
                   DBInstanceClass=params["db_instance_class"], DBSubnetGroupName=params["db_subnet_group_name"],
                   PubliclyAccessible=params["publicly_accessible"], MultiAZ=params["multi_az"],
                   DeletionProtection=params["deletion_protection"], CopyTagsToSnapshot=False)
    if when is None:
        request["UseLatestRestorableTime"] = True
    else:
        request["RestoreTime"] = when
    if params["vpc_security_group_ids"]:
        request["VpcSecurityGroupIds"] = list(params["vpc_security_group_ids"])
    if params["tags"]:
        request["Tags"] = [dict(Key=str(k), Value=str(v)) for k, v in sorted(params["tags"].items())]
    return request


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            db_instance_identifier=dict(type="str", required=True),
            source_automated_backups_arn=dict(type="str", default=""),
            source_db_instance_identifier=dict(type="str", default=""),
            restore_time=dict(type="str", default=""),
            restore_window_timeout=dict(type="int", default=900),
            db_instance_class=dict(type="str", required=True),
            db_subnet_group_name=dict(type="str", required=True),
            vpc_security_group_ids=dict(type="list", elements="str", default=[]),
            kms_key_id=dict(type="str", default=""),
            publicly_accessible=dict(type="bool", default=False),
            multi_az=dict(type="bool", default=False),
            deletion_protection=dict(type="bool", default=False),
            tags=dict(type="dict", default={}),
            wait=dict(type="bool", default=True),
            wait_timeout=dict(type="int", default=3600),
        ),
        required_one_of=[("source_automated_backups_arn", "source_db_instance_identifier")],
        supports_check_mode=True,
    )
    params = module.params
    region = module.region
    identifier = params["db_instance_identifier"]
    arn = params["source_automated_backups_arn"]
    try:
        when = parse_time(params["restore_time"]) if params["restore_time"] else None
    except ValueError:
        module.fail_json(msg="restore_time %r is not an ISO 8601 time (e.g. 2026-12-01T08:55:00Z)" % params["restore_time"])
    client = module.client("rds", retry_decorator=AWSRetry.jittered_backoff())
    try:
        existing = find_instance(client, identifier)
        if existing:
            module.exit_json(changed=False, instance=camel_dict_to_snake_dict(existing, ignore_list=["Tags"]),
                             automated_backups={}, restore_time=params["restore_time"] or "latest")
        backups = find_backups(client, arn, params["source_db_instance_identifier"])
        if backups is None:
            module.fail_json(msg=(
                "no automated backups %s in %s: is cross-region automated backup replication running for the source "
                "(files/terraform/modules/dr_backups, Terraform output dr_automated_backups_arn), and is this the region "
                "it replicates to?" % (
                    "with ARN %s" % arn if arn else "replicated from %s" % params["source_db_instance_identifier"],
                    region or "the default region")))
        arn = backups["DBInstanceAutomatedBackupsArn"]
        if params["kms_key_id"] and backups.get("KmsKeyId") != params["kms_key_id"]:
            module.fail_json(msg="the automated backups %s in %s are encrypted with %s, not with the expected key %s "
                                 "(kms_key_id): the restored instance would use their key; check the replication's "
                                 "KMS key in files/terraform/modules/dr_backups" % (
                                     arn, region, backups.get("KmsKeyId") or "no key", params["kms_key_id"]))
        deadline = time.monotonic() + params["restore_window_timeout"]
        while True:
            holds, reason = window_holds(backups, when)
            if holds or time.monotonic() >= deadline or (when is not None and "before the earliest" in reason):
                break
            time.sleep(min(30, max(1, deadline - time.monotonic())))
            backups = find_backups(client, arn, "") or backups
        if not holds:
            module.fail_json(msg="the automated backups %s in %s cannot restore to that point: %s%s" % (
                arn, region, reason, " (waited %d s, restore_window_timeout)" % params["restore_window_timeout"]
                if "after the latest" in reason else ""))
        request = build_request(params, arn, when)
        result = dict(changed=True, automated_backups=camel_dict_to_snake_dict(backups),
                      restore_time=when.isoformat() if when else "latest")
        if module.check_mode:
            planned = dict((k, v.isoformat() if isinstance(v, datetime.datetime) else v) for k, v in request.items())
            module.exit_json(instance=camel_dict_to_snake_dict(planned), **result)
        instance = client.restore_db_instance_to_point_in_time(aws_retry=True, **request)["DBInstance"]
        if params["wait"]:
            client.get_waiter("db_instance_available").wait(
                DBInstanceIdentifier=identifier,
                WaiterConfig=dict(Delay=15, MaxAttempts=max(1, params["wait_timeout"] // 15)))
            instance = find_instance(client, identifier) or instance
    except botocore.exceptions.WaiterError as exc:
        module.fail_json(msg="instance %s in %s did not become available within %d s (wait_timeout): %s" % (
            identifier, region, params["wait_timeout"], exc))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        module.fail_json_aws(exc, msg="could not restore %s in %s from the automated backups %s" % (
            identifier, region, arn or "of %s" % params["source_db_instance_identifier"]))
    module.exit_json(instance=camel_dict_to_snake_dict(instance, ignore_list=["Tags"]), **result)


if __name__ == "__main__":
    main()
