"""plugins/module_utils/terraform_plan.py: the review summary of a saved plan.

The documents below have the shape of `terraform show -json` (format 1.2); the real
CLI's plans are summarised by the real-Terraform stage (tests/terraform, tests/integration/provision).
"""

import json

from support.collection import ensure_collection_link

ensure_collection_link()

from ansible_collections.sensa.infra.plugins.module_utils.terraform_plan import SENSITIVE, UNKNOWN, summarise  # noqa: E402

SECRET = "canary-secret-4711"


def change(address, rtype, actions, before=None, after=None, before_sensitive=None, after_sensitive=None, after_unknown=None, replace_paths=None):
    body = {
        "actions": actions,
        "before": before,
        "after": after,
        "before_sensitive": before_sensitive if before_sensitive is not None else ({} if before is not None else False),
        "after_sensitive": after_sensitive if after_sensitive is not None else ({} if after is not None else False),
        "after_unknown": after_unknown or {},
    }
    if replace_paths:
        body["replace_paths"] = replace_paths
    return {"address": address, "mode": "managed", "type": rtype, "name": address.rsplit(".", 1)[-1], "change": body}


PLAN = {
    "format_version": "1.2",
    "resource_changes": [
        change("module.stack.module.keys.aws_kms_key.main", "aws_kms_key", ["no-op"], {"a": 1}, {"a": 1}),
        change("module.stack.module.network.aws_vpc.main", "aws_vpc", ["create"], None, {"cidr_block": "10.0.0.0/16"}, after_unknown={"id": True}),
        change(
            "module.stack.module.database.aws_db_instance.main",
            "aws_db_instance",
            ["update"],
            {"instance_class": "db.t4g.medium", "password": SECRET, "tags": {"A": "1"}},
            {"instance_class": "db.t4g.large", "password": SECRET + "-new", "tags": {"A": "1"}},
            before_sensitive={"password": True},
            after_sensitive={"password": True},
        ),
        change(
            "module.stack.module.cache.aws_elasticache_replication_group.main",
            "aws_elasticache_replication_group",
            ["delete", "create"],
            {"node_type": "cache.t4g.micro", "auth_token": SECRET, "arn": "arn:x"},
            {"node_type": "cache.r6g.large", "auth_token": SECRET},
            before_sensitive={"auth_token": True},
            after_sensitive={"auth_token": True},
            after_unknown={"arn": True},
            replace_paths=[["node_type"]],
        ),
        change("module.stack.module.monitoring.aws_sns_topic.alarms", "aws_sns_topic", ["delete"], {"name": "t"}, None),
        {"address": "data.aws_region.current", "mode": "data", "type": "aws_region", "change": {"actions": ["read"]}},
    ],
}


def test_counts_and_actions():
    summary = summarise(PLAN)
    assert summary["counts"] == {"add": 1, "change": 1, "replace": 1, "destroy": 1}
    assert summary["headline"] == "1 to add, 1 to change, 1 to replace, 1 to destroy"
    assert summary["changed"] is True
    actions = {entry["address"].rsplit(".", 2)[-2]: entry["action"] for entry in summary["changes"]}
    assert actions == {"aws_vpc": "create", "aws_db_instance": "update", "aws_elasticache_replication_group": "replace", "aws_sns_topic": "delete"}


def test_sensitive_values_never_appear():
    summary = summarise(PLAN)
    assert SECRET not in json.dumps(summary)
    db = [e for e in summary["changes"] if e["type"] == "aws_db_instance"][0]
    assert db["attributes"]["password"] == {"before": SENSITIVE, "after": SENSITIVE}
    assert db["attributes"]["instance_class"] == {"before": '"db.t4g.medium"', "after": '"db.t4g.large"'}
    assert "tags" not in db["attributes"], "unchanged attributes are not listed"


def test_replacement_says_why_and_what_becomes_unknown():
    summary = summarise(PLAN)
    cache = [e for e in summary["changes"] if e["action"] == "replace"][0]
    assert cache["replace_because"] == ["node_type"]
    assert cache["attributes"]["arn"]["after"] == UNKNOWN
    assert "-/+ module.stack.module.cache.aws_elasticache_replication_group.main (replace)" in summary["lines"]
    assert "    replaced because of: node_type" in summary["lines"]


def test_stateful_replacements_and_deletions_are_listed():
    summary = summarise(PLAN)
    assert summary["stateful_replacements"] == ["module.stack.module.cache.aws_elasticache_replication_group.main"]
    assert summarise(PLAN, stateful_types=("aws_sns_topic",))["stateful_replacements"] == ["module.stack.module.monitoring.aws_sns_topic.alarms"]


def test_a_plan_without_changes_is_empty():
    summary = summarise({"resource_changes": [PLAN["resource_changes"][0]]})
    assert summary == {
        "changed": False,
        "counts": {"add": 0, "change": 0, "replace": 0, "destroy": 0},
        "changes": [],
        "lines": [],
        "stateful_replacements": [],
        "headline": "0 to add, 0 to change, 0 to replace, 0 to destroy",
    }
