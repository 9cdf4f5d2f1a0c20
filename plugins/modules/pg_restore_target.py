#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: pg_restore_target
short_description: Restore a backup set into a temporary PostgreSQL cluster, or remove that cluster
version_added: 1.1.0
description:
  - With O(state=present), checks the backup set taken by M(sensa.infra.pg_backup) first (every recorded file present
    with its recorded size and sha256; C(pg_restore --list) for a dump, C(pg_verifybackup) for a base backup), so a
    corrupted or truncated backup fails before anything is created, with a message naming the file.
  - Then starts a throwaway cluster under O(path) (127.0.0.1 and a unix socket only) and restores into it. A logical
    set gets its roles and then C(pg_restore --create); a physical set gets its base backup and replays the WAL
    archive up to O(recovery_target_name) (default the backup's first mark) or O(recovery_target_time), then promotes.
  - Returns the time the restore took and what the restored database must look like (the expectations
    M(sensa.infra.pg_restore_verify) checks).
  - A failed restore removes what it created. O(state=absent) stops and deletes the cluster under O(path); run it in
    an C(always) section so the temporary target goes away also when a check fails.
  - The source database is never contacted.
author:
  - Sensa Learn platform team (@sensa-learn)
options:
  path:
    description:
      - Directory of the temporary cluster. With O(state=present) it must not hold a cluster yet.
    type: path
    required: true
  state:
    description:
      - V(present) restores; V(absent) removes the temporary cluster.
    type: str
    choices: [ present, absent ]
    default: present
  backup:
    description:
      - The backup set directory, or a directory of backup sets, of which the newest (by its point in time) is
        restored. Required with O(state=present).
    type: path
  engine:
    description:
      - Engine of the temporary cluster; its major version must be at least the source's (the same for V(physical)).
        Defaults to the environment variable C(SENSA_PG_ENGINE), else V(embedded).
    type: str
    choices: [ embedded, system ]
  recovery_target_time:
    description:
      - Physical backups only. Replay the WAL up to this time (ISO 8601, e.g. C(2026-12-01T09:30:00Z)) instead of
        a mark. It must lie at or after the backup's first mark, and the source must already have archived a commit
        after it.
    type: str
  recovery_target_name:
    description:
      - Physical backups only. The mark (restore point) to recover to. Default the backup's first mark.
    type: str
  recovery_timeout:
    description:
      - Seconds to wait for the recovery to finish.
    type: int
    default: 600
attributes:
  check_mode:
    support: full
    description: Checks the backup's files, reports what would be restored, creates nothing.
  diff_mode:
    support: none
    description: Nothing to diff.
seealso:
  - module: sensa.infra.pg_backup
  - module: sensa.infra.pg_restore_verify
"""

EXAMPLES = r"""
- name: Restore the newest backup into a temporary cluster, verify, always remove it
  block:
    - name: Restore
      sensa.infra.pg_restore_target:
        backup: "{{ backup_dir }}"
        path: /tmp/sensa-drill
      register: target
  always:
    - name: Remove the temporary target
      sensa.infra.pg_restore_target:
        path: /tmp/sensa-drill
        state: absent
"""

RETURN = r"""
backup_dir:
  description: The backup set that was restored (the newest one when O(backup) is a directory of sets).
  returned: O(state=present)
  type: str
method:
  description: V(logical) or V(physical).
  returned: O(state=present)
  type: str
database:
  description: Name of the restored database.
  returned: O(state=present)
  type: str
socket_dir:
  description: Unix socket directory of the temporary cluster (use as login_unix_socket).
  returned: O(state=present)
  type: str
port:
  description: Port of the temporary cluster.
  returned: O(state=present)
  type: int
superuser:
  description: Superuser of the temporary cluster (trusted on its socket only).
  returned: O(state=present)
  type: str
restore_seconds:
  description: Wall time of the restore (checking the files excluded).
  returned: O(state=present)
  type: float
backup_taken_at:
  description: The backup's point in time (UTC).
  returned: O(state=present)
  type: str
recovery_target:
  description: What a physical restore recovered to.
  returned: O(state=present) and a physical backup
  type: str
expectations:
  description: The source's facts the restored database must reproduce (schema version, extensions, row counts, checksums).
  returned: O(state=present)
  type: dict
expectations_from:
  description: Where the expectations come from (the dump's snapshot, or a mark).
  returned: O(state=present)
  type: str
"""

import os
import shutil
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sensa.infra.plugins.module_utils import backup_restore
from ansible_collections.sensa.infra.plugins.module_utils.pg_cluster import Cluster, ClusterError


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            backup=dict(type="path"),
            engine=dict(type="str", choices=["embedded", "system"]),
            recovery_target_time=dict(type="str"),
            recovery_target_name=dict(type="str"),
            recovery_timeout=dict(type="int", default=600),
        ),
        supports_check_mode=True,
        required_if=[("state", "present", ["backup"])],
        mutually_exclusive=[("recovery_target_time", "recovery_target_name")],
    )
    params = module.params
    path = params["path"]
    if params["state"] == "absent":
        existed = os.path.exists(path)
        if existed and not module.check_mode:
            try:
                Cluster(path, engine=params["engine"]).destroy()
            except ClusterError:
                pass
            shutil.rmtree(path, ignore_errors=True)
        module.exit_json(changed=existed)

    backup = params["backup"]
    try:
        if not os.path.isfile(os.path.join(backup, backup_restore.METADATA_FILE)):
            backup = backup_restore.pick_latest(backup)
        meta = backup_restore.read_metadata(backup)
        if os.path.exists(os.path.join(path, "data")):
            raise backup_restore.BackupError(
                "%s already holds a cluster (a temporary target left by an earlier drill?); remove it with "
                "state=absent first" % path)
        if meta["method"] == "logical" and (params["recovery_target_time"] or params["recovery_target_name"]):
            raise backup_restore.BackupError("a logical backup restores to its own snapshot (%s); recovery targets "
                                             "apply to physical backups only" % meta["taken_at"])
        target_name = params["recovery_target_name"]
        if meta["method"] == "physical" and not params["recovery_target_time"] and not target_name:
            target_name = meta["marks"][0]["name"]
        expectations, source = backup_restore.recovery_expectations(meta, params["recovery_target_time"], target_name)
        cluster = Cluster(path, engine=params["engine"])
        backup_restore.check_engine(meta, cluster.bindir)
        backup_restore.check_files(backup, meta, cluster.bindir)
    except (backup_restore.BackupError, ClusterError) as exc:
        module.fail_json(msg="%s (backup %s)" % (exc, backup))
    result = dict(changed=True, backup_dir=backup, method=meta["method"], database=meta["database"], socket_dir=cluster.socket_dir,
                  superuser=cluster.superuser, backup_taken_at=meta["taken_at"], expectations=expectations,
                  expectations_from=source)
    if meta["method"] == "physical":
        result["recovery_target"] = ("recovery_target_time %s" % params["recovery_target_time"]
                                     if params["recovery_target_time"] else "restore point %s" % target_name)
    if module.check_mode:
        module.exit_json(**result)
    start = time.monotonic()
    try:
        if meta["method"] == "logical":
            backup_restore.restore_logical(backup, cluster)
        else:
            backup_restore.restore_physical(backup, meta, cluster, target_time=params["recovery_target_time"],
                                            target_name=None if params["recovery_target_time"] else target_name,
                                            timeout=params["recovery_timeout"])
    except (backup_restore.BackupError, ClusterError) as exc:
        cluster.destroy()
        module.fail_json(msg="restoring %s into the temporary cluster %s failed (it was removed again): %s"
                             % (backup, path, exc))
    result["restore_seconds"] = round(time.monotonic() - start, 2)
    result["port"] = cluster.port
    module.exit_json(**result)


if __name__ == "__main__":
    main()
