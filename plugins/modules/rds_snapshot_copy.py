#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: rds_snapshot_copy
short_description: Copy an encrypted RDS DB snapshot into another region with that region's KMS key
version_added: 1.1.0
description:
  - Copies a DB snapshot from O(source_region) into the module's region (O(region)) and waits until the copy is
    available. Does nothing when a snapshot named O(db_snapshot_identifier) already exists there.
  - Exists because M(amazon.aws.rds_instance_snapshot) copies without a KMS key, and AWS refuses to copy an encrypted
    snapshot across regions without one (a KMS key belongs to one region); the disaster-recovery restore of
    C(playbooks/restore_drill.yml -e restore_region=...) needs exactly that copy.
  - O(state=absent) deletes the snapshot O(db_snapshot_identifier) in the module's region.
author:
  - Sensa Learn platform team (@sensa-learn)
options:
  region:
    description:
      - The region to copy into (and where O(state=absent) deletes). Defaults to boto3's configuration
        (C(AWS_REGION), the profile).
    type: str
    aliases: [ aws_region ]
  db_snapshot_identifier:
    description:
      - Name of the copy in the module's region.
    type: str
    required: true
  source_db_snapshot_arn:
    description:
      - ARN of the snapshot to copy. Required with O(state=present).
    type: str
  source_region:
    description:
      - Region of the source snapshot. Required with O(state=present).
    type: str
  kms_key_id:
    description:
      - KMS key (ARN, id or alias) in the module's region to encrypt the copy with, e.g. the replica key that
        C(files/terraform/modules/dr_backups) creates.
    type: str
  state:
    description:
      - V(present) copies; V(absent) deletes the copy.
    type: str
    choices: [ present, absent ]
    default: present
  wait_timeout:
    description:
      - Seconds to wait for the copy to become available (or to be deleted).
    type: int
    default: 1800
attributes:
  check_mode:
    support: full
    description: Reports whether the copy would be made or deleted.
  diff_mode:
    support: none
    description: Nothing to diff.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
seealso:
  - module: amazon.aws.rds_instance_snapshot
"""

EXAMPLES = r"""
- name: Copy the drill's snapshot into the DR region
  sensa.infra.rds_snapshot_copy:
    region: eu-central-1
    db_snapshot_identifier: sensa-prod-drill-20261201t0900z
    source_db_snapshot_arn: arn:aws:rds:eu-west-1:123456789012:snapshot:sensa-prod-drill-20261201t0900z
    source_region: eu-west-1
    kms_key_id: arn:aws:kms:eu-central-1:123456789012:key/mrk-0123456789abcdef
"""

RETURN = r"""
snapshot:
  description: The copy as C(describe_db_snapshots) returns it, in snake case.
  returned: O(state=present)
  type: dict
"""

import time

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

try:
    import botocore
    from botocore.config import Config
except ImportError:  # AnsibleAWSModule reports the missing library
    botocore = Config = None


def describe(client, identifier):
    try:
        found = client.describe_db_snapshots(DBSnapshotIdentifier=identifier)["DBSnapshots"]
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "DBSnapshotNotFound":
            return None
        raise
    return found[0] if found else None


def wait_for(module, client, identifier, gone=False):
    deadline = time.monotonic() + module.params["wait_timeout"]
    while True:
        snapshot = describe(client, identifier)
        if gone and snapshot is None:
            return None
        if not gone and snapshot and snapshot.get("Status") == "available":
            return snapshot
        if time.monotonic() > deadline:
            module.fail_json(msg="snapshot %s is %s after %d s (wait_timeout)" % (
                identifier, snapshot.get("Status") if snapshot else "absent", module.params["wait_timeout"]))
        time.sleep(5)


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            db_snapshot_identifier=dict(type="str", required=True),
            source_db_snapshot_arn=dict(type="str"),
            source_region=dict(type="str"),
            kms_key_id=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            wait_timeout=dict(type="int", default=1800),
        ),
        required_if=[("state", "present", ["source_db_snapshot_arn", "source_region"])],
        supports_check_mode=True,
    )
    params = module.params
    identifier = params["db_snapshot_identifier"]
    # amazon.aws's client (its options, credentials and user agent) with botocore's standard retries:
    # jittered backoff on throttling and transient errors; an aws_config of the task wins.
    client = module.client("rds", config=Config(retries=dict(mode="standard", max_attempts=8)))
    try:
        existing = describe(client, identifier)
        if params["state"] == "absent":
            if existing and not module.check_mode:
                client.delete_db_snapshot(DBSnapshotIdentifier=identifier)
                wait_for(module, client, identifier, gone=True)
            module.exit_json(changed=bool(existing))
        if existing:
            module.exit_json(changed=False, snapshot=camel_dict_to_snake_dict(wait_for(module, client, identifier)))
        if module.check_mode:
            module.exit_json(changed=True)
        request = dict(SourceDBSnapshotIdentifier=params["source_db_snapshot_arn"], TargetDBSnapshotIdentifier=identifier,
                       SourceRegion=params["source_region"], CopyTags=True)
        if params["kms_key_id"]:
            request["KmsKeyId"] = params["kms_key_id"]
        client.copy_db_snapshot(**request)
        snapshot = wait_for(module, client, identifier)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        module.fail_json_aws(exc, msg="could not %s snapshot %s in %s" % (
            "delete" if params["state"] == "absent" else "copy %s from %s into" % (
                params["source_db_snapshot_arn"], params["source_region"]),
            identifier, module.region or "the default region"))
    module.exit_json(changed=True, snapshot=camel_dict_to_snake_dict(snapshot))


if __name__ == "__main__":
    main()
