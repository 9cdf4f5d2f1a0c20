#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: terraform_plan_summary
short_description: Summarise a saved Terraform plan for review, without its secrets
version_added: 1.1.0
description:
  - Runs C(terraform show -json) on a saved plan file and returns what a reviewer needs, never the plan itself (a plan
    file holds every planned value, secrets included).
  - Returns the counts of resources to add, change, replace and destroy, each changing resource's address and action,
    and for updates and replacements the top-level attributes that change, with every value Terraform marks sensitive
    shown as C((sensitive)).
  - Lists the stateful resources (databases, caches, buckets, keys, secrets) the plan would replace or destroy, so a
    playbook can refuse such a plan unless it is confirmed.
author:
  - Sensa Learn platform team (@sensa-learn)
attributes:
  check_mode:
    support: full
    description: The module only reads the plan file; it behaves the same in check mode.
  diff_mode:
    support: none
    description: The summary is the review; there is no diff of its own.
options:
  plan_file:
    description:
      - The saved plan (C(terraform plan -out=...)).
    type: path
    required: true
  project_path:
    description:
      - The root module the plan was made from (the working directory of C(terraform show)).
    type: path
    required: true
  binary_path:
    description:
      - The Terraform CLI. Default is C(terraform) from E(PATH).
    type: path
  stateful_types:
    description:
      - Resource types whose replacement or destruction is listed in RV(stateful_replacements).
      - Default is the built-in list (RDS instances and clusters, ElastiCache, S3 buckets, KMS keys, Secrets Manager
        secrets, DynamoDB tables).
    type: list
    elements: str
notes:
  - Set E(TF_DATA_DIR) (the task's C(environment)) when the working directory was initialised with one.
seealso:
  - module: community.general.terraform
"""

EXAMPLES = r"""
- name: Review the plan
  sensa.infra.terraform_plan_summary:
    plan_file: /run/sensa/plan.tfplan
    project_path: /srv/sensa/files/terraform/production
  register: review

- name: Show it
  ansible.builtin.debug:
    msg: "{{ review.lines }}"
"""

RETURN = r"""
changed:
  description: Always false; the module only reads. RV(plan_changes) says whether the plan changes anything.
  returned: always
  type: bool
plan_changes:
  description: Whether the plan adds, changes, replaces or destroys anything.
  returned: always
  type: bool
headline:
  description: The counts in one line.
  returned: always
  type: str
  sample: 2 to add, 1 to change, 0 to replace, 0 to destroy
counts:
  description: Resources to C(add), C(change), C(replace) and C(destroy).
  returned: always
  type: dict
changes:
  description: One entry per changing resource (address, type, action, and for updates and replacements the changed
    top-level attributes with sensitive values redacted).
  returned: always
  type: list
  elements: dict
lines:
  description: The same as readable lines, one resource (and its changed attributes) after another.
  returned: always
  type: list
  elements: str
stateful_replacements:
  description: Addresses of stateful resources the plan replaces or destroys.
  returned: always
  type: list
  elements: str
"""

import json

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.sensa.infra.plugins.module_utils.terraform_plan import STATEFUL_TYPES, summarise


def main():
    module = AnsibleModule(
        argument_spec=dict(
            plan_file=dict(type="path", required=True),
            project_path=dict(type="path", required=True),
            binary_path=dict(type="path"),
            stateful_types=dict(type="list", elements="str"),
        ),
        supports_check_mode=True,
    )
    binary = module.params["binary_path"] or module.get_bin_path("terraform", required=True)
    rc, out, err = module.run_command([binary, "show", "-json", "-no-color", module.params["plan_file"]], cwd=module.params["project_path"])
    if rc != 0:
        module.fail_json(msg="terraform show -json %s failed in %s: %s" % (module.params["plan_file"], module.params["project_path"], err.strip()))
    try:
        plan = json.loads(out)
    except ValueError as error:
        module.fail_json(msg="terraform show -json returned no JSON document: %s" % error)
    summary = summarise(plan, tuple(module.params["stateful_types"] or STATEFUL_TYPES))
    module.exit_json(
        changed=False,
        plan_changes=summary["changed"],
        headline=summary["headline"],
        counts=summary["counts"],
        changes=summary["changes"],
        lines=summary["lines"],
        stateful_replacements=summary["stateful_replacements"],
    )


if __name__ == "__main__":
    main()
