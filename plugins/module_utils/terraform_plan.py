# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Sensa Learn platform team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Summaries of `terraform show -json <plan>`: what an operator reviews before an apply.

A saved plan holds every planned value, secrets included. The summary keeps what a review
needs (each resource's address and action, counts per action, for updates and
replacements the top-level attributes that change) and never a value Terraform marks
sensitive: those read "(sensitive)".
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

SENSITIVE = "(sensitive)"
UNKNOWN = "(known after apply)"
MAX_VALUE_LENGTH = 120

# Resources whose replacement or destruction loses data or keys: production refuses them
# without an explicit confirmation (roles/terraform_stack).
STATEFUL_TYPES = (
    "aws_db_instance",
    "aws_rds_cluster",
    "aws_elasticache_replication_group",
    "aws_elasticache_cluster",
    "aws_s3_bucket",
    "aws_kms_key",
    "aws_secretsmanager_secret",
    "aws_dynamodb_table",
)


def action_of(actions):
    """Terraform's action list as one word: create, update, replace, delete, read or no-op."""
    actions = list(actions)
    if actions in (["delete", "create"], ["create", "delete"]):
        return "replace"
    if actions == ["no-op"]:
        return "no-op"
    if len(actions) == 1 and actions[0] in ("create", "update", "delete", "read"):
        return actions[0]
    return "/".join(actions)


def _marked(marker):
    """True when a sensitivity marker (bool, or a structure of them) marks anything."""
    if isinstance(marker, bool):
        return marker
    if isinstance(marker, dict):
        return any(_marked(value) for value in marker.values())
    if isinstance(marker, list):
        return any(_marked(value) for value in marker)
    return False


def _render(value):
    text = json.dumps(value, sort_keys=True)
    if len(text) > MAX_VALUE_LENGTH:
        text = text[:MAX_VALUE_LENGTH - 3] + "..."
    return text


def changed_attributes(change):
    """{attribute: {'before': str, 'after': str}} of the top-level attributes that change."""
    before = change.get("before") or {}
    after = change.get("after") or {}
    before_sensitive = change.get("before_sensitive") or {}
    after_sensitive = change.get("after_sensitive") or {}
    after_unknown = change.get("after_unknown") or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return {}
    result = {}
    for name in sorted(set(before) | set(after) | set(after_unknown if isinstance(after_unknown, dict) else {})):
        unknown = isinstance(after_unknown, dict) and _marked(after_unknown.get(name))
        if not unknown and before.get(name) == after.get(name):
            continue
        sensitive_before = isinstance(before_sensitive, dict) and _marked(before_sensitive.get(name))
        sensitive_after = isinstance(after_sensitive, dict) and _marked(after_sensitive.get(name))
        if unknown and before.get(name) is None:
            continue  # a computed attribute of something new: not a reviewable change
        result[name] = {
            "before": SENSITIVE if sensitive_before else _render(before.get(name)),
            "after": SENSITIVE if sensitive_after else (UNKNOWN if unknown else _render(after.get(name))),
        }
    return result


def summarise(plan, stateful_types=STATEFUL_TYPES):
    """The review summary of a plan (the parsed `terraform show -json` document)."""
    counts = {"add": 0, "change": 0, "replace": 0, "destroy": 0}
    changes = []
    stateful = []
    for resource in plan.get("resource_changes") or []:
        if resource.get("mode", "managed") != "managed":
            continue
        action = action_of(resource["change"]["actions"])
        if action in ("no-op", "read"):
            continue
        entry = {"address": resource["address"], "type": resource["type"], "action": action}
        if action == "create":
            counts["add"] += 1
        elif action == "update":
            counts["change"] += 1
            entry["attributes"] = changed_attributes(resource["change"])
        elif action == "replace":
            counts["replace"] += 1
            entry["attributes"] = changed_attributes(resource["change"])
            entry["replace_because"] = [".".join(str(step) for step in path) for path in resource["change"].get("replace_paths") or []]
        elif action == "delete":
            counts["destroy"] += 1
        if action in ("replace", "delete") and resource["type"] in stateful_types:
            stateful.append(resource["address"])
        changes.append(entry)
    changes.sort(key=lambda entry: entry["address"])
    return {
        "changed": bool(changes),
        "counts": counts,
        "changes": changes,
        "lines": [line for entry in changes for line in _lines(entry)],
        "stateful_replacements": sorted(stateful),
        "headline": "%(add)d to add, %(change)d to change, %(replace)d to replace, %(destroy)d to destroy" % counts,
    }


_SYMBOLS = {"create": "+", "update": "~", "replace": "-/+", "delete": "-"}


def _lines(entry):
    lines = ["%s %s (%s)" % (_SYMBOLS.get(entry["action"], "?"), entry["address"], entry["action"])]
    for name, values in sorted((entry.get("attributes") or {}).items()):
        lines.append("    %s: %s -> %s" % (name, values["before"], values["after"]))
    if entry.get("replace_because"):
        lines.append("    replaced because of: %s" % ", ".join(entry["replace_because"]))
    return lines
