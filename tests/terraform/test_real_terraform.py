"""Both roots with the real CLI and the real hashicorp/aws provider against moto, with
the inventories' variables: properties of the real plans (`terraform show -json`), then
apply, the applied state, a second plan (no changes) and destroy.

Where a value is only known after apply (ARNs, ids, policies built from them) the plan
says where it comes from (`configuration` references) and the applied state says what it is.
"""

import json
import re
import subprocess
import threading

import pytest

from support.terraform_stage import DEVELOPER, boto, leftovers, report

ENVS = ("development", "production")
STANDARD_TAGS = {"Project": "sensa", "ManagedBy": "terraform"}
# Attributes that carry a resource's name; inline role policies are named within their role.
NAME_ATTRIBUTES = ("name", "identifier", "bucket", "replication_group_id", "family", "alarm_name")
NAME_EXEMPT = {"aws_iam_role_policy"}
# The bucket that receives the other buckets' server access logs (modules/storage).
ACCESS_LOG_TARGET = "logs"


def managed(plan, rtype=None):
    return [rc for rc in plan["resource_changes"] if rc["mode"] == "managed" and rtype in (None, rc["type"])]


def one(plan, rtype):
    found = managed(plan, rtype)
    assert len(found) == 1, [rc["address"] for rc in found]
    return found[0]


def after(rc):
    return rc["change"]["after"]


def in_module(plan, rtype, module):
    """Managed resources of one type in module.stack.module.<module> (or a root module call)."""
    return [rc for rc in managed(plan, rtype) if rc.get("module_address", "").split(".")[-1] == module]


def stack_key(plan):
    found = in_module(plan, "aws_kms_key", "keys")
    assert len(found) == 1, [rc["address"] for rc in managed(plan, "aws_kms_key")]
    return found[0]


def known_or_computed(rc, attribute):
    """Set in the plan, or set from another resource (known only after apply)."""
    return after(rc).get(attribute) not in (None, "") or rc["change"]["after_unknown"].get(attribute) is True


def config_module(plan, module_address):
    """The configuration node of module.stack.module.<name> (or the root module)."""
    node = plan["configuration"]["root_module"]
    calls = []
    parts = module_address.split(".") if module_address else []
    for name in parts[1::2]:
        name = name.split("[")[0]  # module.audit[0]: the call is "audit"
        calls.append(node["module_calls"][name])
        node = node["module_calls"][name]["module"]
    return node, calls


def references(plan, rc, attribute):
    """What the attribute's expression refers to; for a nested block, every reference inside it."""
    node, _calls = config_module(plan, rc.get("module_address", ""))
    module_address = rc.get("module_address")
    local_address = (rc["address"][len(module_address) + 1:] if module_address else rc["address"]).split("[")[0]
    for resource in node["resources"]:
        if resource["address"] == local_address:
            return all_references(resource["expressions"].get(attribute, {}))
    raise AssertionError("no configuration for %s" % rc["address"])


def all_references(expression):
    """The references of an expression, or of every expression inside a nested block."""
    if isinstance(expression, list):
        return [ref for item in expression for ref in all_references(item)]
    if not isinstance(expression, dict):
        return []
    found = list(expression.get("references", []))
    for key, value in expression.items():
        if key != "references" and isinstance(value, (dict, list)):
            found.extend(all_references(value))
    return found


def from_the_stack_key(plan, rc, attribute):
    """The attribute is the module's var.kms_key_arn, which the stack sets to the keys module's key."""
    assert "var.kms_key_arn" in references(plan, rc, attribute), (rc["address"], attribute)
    _node, calls = config_module(plan, rc["module_address"])
    assert "module.keys.key_arn" in calls[-1]["expressions"]["kms_key_arn"]["references"], rc["module_address"]


@pytest.fixture(scope="module", params=ENVS)
def root(request, roots):
    return roots[request.param]


def test_both_roots_plan_only_creations_with_the_real_provider(roots, terraform_tools):
    for environment, made in roots.items():
        plan = made.plan
        assert made.plan_exit == 2, "%s: a plan against an empty workspace must have changes" % environment
        assert plan["terraform_version"] == terraform_tools["terraform_version"]
        actions = {tuple(rc["change"]["actions"]) for rc in managed(plan)}
        assert actions == {("create",)}, (environment, actions)
        assert plan["errored"] is False and plan["complete"] is True
    assert len(managed(roots["production"].plan)) > len(managed(roots["development"].plan))


def test_only_hashicorp_aws_is_used(roots):
    for made in roots.values():
        providers = {rc["provider_name"] for rc in made.plan["resource_changes"]}
        assert providers == {"registry.terraform.io/hashicorp/aws"}, providers


def test_customer_managed_key_encrypts_everything_at_rest(root):
    plan = root.plan
    key = stack_key(plan)
    assert after(key)["enable_key_rotation"] is True
    encrypted = {
        "aws_db_instance": ("kms_key_id", "performance_insights_kms_key_id", "master_user_secret_kms_key_id"),
        "aws_elasticache_replication_group": ("kms_key_id",),
        "aws_cloudwatch_log_group": ("kms_key_id",),
        "aws_sns_topic": ("kms_master_key_id",),
        "aws_secretsmanager_secret": ("kms_key_id",),
        "aws_cloudtrail": ("kms_key_id",),
    }
    for rtype, attributes in encrypted.items():
        found = managed(plan, rtype)
        assert found or (rtype == "aws_cloudtrail" and root.environment == "development"), rtype
        for rc in found:
            for attribute in attributes:
                assert known_or_computed(rc, attribute), (rc["address"], attribute)
                from_the_stack_key(plan, rc, attribute)
    db = one(plan, "aws_db_instance")
    assert after(db)["storage_encrypted"] is True
    cache = one(plan, "aws_elasticache_replication_group")
    assert after(cache)["at_rest_encryption_enabled"] in (True, "true") and after(cache)["transit_encryption_enabled"] is True
    sse = managed(plan, "aws_s3_bucket_server_side_encryption_configuration")
    assert len(sse) == len(managed(plan, "aws_s3_bucket"))
    for rc in sse:
        rule = after(rc)["rule"][0]["apply_server_side_encryption_by_default"][0]
        if rc["index"] == ACCESS_LOG_TARGET:
            # S3 log delivery cannot write into an SSE-KMS bucket: the access-log target is SSE-S3.
            assert rule["sse_algorithm"] == "AES256" and not rule.get("kms_master_key_id"), rule
            continue
        assert rule["sse_algorithm"] == "aws:kms"
        from_the_stack_key(plan, rc, "rule")


def test_every_bucket_blocks_public_access_and_is_versioned(root):
    plan = root.plan
    buckets = managed(plan, "aws_s3_bucket")
    assert len(buckets) >= 3
    blocks = managed(plan, "aws_s3_bucket_public_access_block")
    assert len(blocks) == len(buckets)
    for rc in blocks:
        settings = after(rc)
        assert all(settings[k] is True for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")), rc["address"]
    versioning = managed(plan, "aws_s3_bucket_versioning")
    assert len(versioning) == len(buckets)
    assert all(after(rc)["versioning_configuration"][0]["status"] == "Enabled" for rc in versioning)
    assert len(managed(plan, "aws_s3_bucket_policy")) == len(buckets), "every bucket gets the TLS-only policy"


def test_every_bucket_has_lifecycle_rules(root):
    plan = root.plan
    rules = managed(plan, "aws_s3_bucket_lifecycle_configuration")
    assert len(rules) == len(managed(plan, "aws_s3_bucket"))
    for rc in rules:
        ids = {rule["id"] for rule in after(rc)["rule"]}
        assert {"abort-incomplete-uploads", "expire-noncurrent-versions"} <= ids, rc["address"]
        if rc["index"] in (ACCESS_LOG_TARGET, "trail"):
            assert "logs-retention" in ids, rc["address"]


def test_no_ingress_from_anywhere(root):
    plan = root.plan
    for rc in managed(plan, "aws_vpc_security_group_ingress_rule"):
        assert after(rc).get("cidr_ipv4") not in ("0.0.0.0/0",), rc["address"]
        assert after(rc).get("cidr_ipv6") not in ("::/0",), rc["address"]
    for rc in managed(plan, "aws_security_group") + managed(plan, "aws_default_security_group"):
        assert not after(rc).get("ingress"), "%s has inline ingress rules" % rc["address"]


def test_database_and_cache_ingress_come_from_security_groups(root):
    plan = root.plan
    for rc in managed(plan, "aws_vpc_security_group_ingress_rule"):
        if after(rc).get("cidr_ipv4"):
            continue  # operator networks: checked by test_no_ingress_from_anywhere and the variable validation
        assert rc["change"]["after_unknown"].get("referenced_security_group_id") is True, rc["address"]
        refs = references(plan, rc, "referenced_security_group_id")
        sources = ("var.client_security_group_ids", "var.bastion_security_group_id", "aws_security_group.proxy[0].id", "aws_security_group.proxy")
        assert any(ref in refs for ref in sources), (rc["address"], refs)


def test_production_database_is_highly_available_protected_and_observable(roots):
    db = after(one(roots["production"].plan, "aws_db_instance"))
    assert db["multi_az"] is True
    assert db["deletion_protection"] is True
    assert db["skip_final_snapshot"] is False
    assert db["final_snapshot_identifier"]
    assert db["performance_insights_enabled"] is True and db["performance_insights_retention_period"] >= 731
    assert db["backup_retention_period"] >= 7
    assert db["publicly_accessible"] is False
    assert db["manage_master_user_password"] is True and db.get("password") is None
    cache = after(one(roots["production"].plan, "aws_elasticache_replication_group"))
    assert cache["automatic_failover_enabled"] is True and cache["multi_az_enabled"] is True and cache["num_cache_clusters"] >= 2
    zones = roots["production"].plan["variables"]["availability_zones"]["value"]
    assert len(managed(roots["production"].plan, "aws_nat_gateway")) == len(zones) >= 2
    assert managed(roots["production"].plan, "aws_appautoscaling_target")
    assert managed(roots["production"].plan, "aws_cloudwatch_metric_alarm")


def test_development_is_the_cost_optimised_shape(roots):
    plan = roots["development"].plan
    db = after(one(plan, "aws_db_instance"))
    assert db["multi_az"] is False and db["deletion_protection"] is False and db["skip_final_snapshot"] is True
    assert len(managed(plan, "aws_nat_gateway")) == 1
    assert after(one(plan, "aws_elasticache_replication_group"))["num_cache_clusters"] == 1
    assert not managed(plan, "aws_appautoscaling_target")


@pytest.fixture(scope="session")
def taggable_types(terraform_tools, roots):
    """Resource types whose provider schema has a `tags` argument (from the real provider)."""
    made = roots["development"]
    schema = json.loads(made.tf.run("providers", "schema", "-json", workspace=False).stdout)
    resources = schema["provider_schemas"]["registry.terraform.io/hashicorp/aws"]["resource_schemas"]
    return {name for name, body in resources.items() if "tags" in body["block"].get("attributes", {})}


def test_every_taggable_resource_carries_the_standard_tags(root, taggable_types):
    expected = dict(STANDARD_TAGS, Environment=root.environment)
    if root.environment == "development":
        expected["Developer"] = DEVELOPER
    checked = 0
    for rc in managed(root.plan):
        if rc["type"] not in taggable_types:
            continue
        tags = after(rc).get("tags_all") or {}
        assert expected.items() <= tags.items(), (rc["address"], tags)
        if root.environment == "production":
            assert "Developer" not in tags, rc["address"]
        checked += 1
    assert checked > 30


def test_names_carry_the_developer_id_in_development_and_none_in_production(root):
    names = []
    for rc in managed(root.plan):
        if rc["type"] in NAME_EXEMPT:
            continue
        for attribute in NAME_ATTRIBUTES:
            value = after(rc).get(attribute)
            if isinstance(value, str) and value and not (attribute == "family" and rc["type"] == "aws_db_parameter_group"):
                names.append((rc["address"], value))
    assert len(names) > 15
    for address, value in names:
        if root.environment == "development":
            assert DEVELOPER in value, (address, value)
        else:
            assert DEVELOPER not in value and "-main" not in value, (address, value)
            assert "sensa-prod" in value or value.startswith("sensa/production/"), (address, value)


def test_fmt_and_validate_pass_on_both_roots(roots, terraform_tools):
    made = roots["development"]
    argv = [terraform_tools["binary"], "fmt", "-check", "-recursive", "-diff", "-no-color", made.tf.cwd + "/.."]
    fmt = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    for made in roots.values():
        made.tf.run("validate", "-no-color", workspace=False)


# --- apply, read the state, plan again, destroy --------------------------------------
# Both roots are applied with the real CLI against moto; the applied state shows what the
# plan could not know (ARNs, ids, policies). A second plan must be empty. Development is
# destroyed and leaves nothing behind; production refuses to lose its database
# (deletion protection), which is the point of production.


def access_log_prefixes(moto_url, bucket):
    """The prefixes (uploads/, artifacts/, ...) under which moto's S3 has delivered server access logs."""
    pages = boto("s3", moto_url).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted({item["Key"].split("/")[0] + "/" for page in pages for item in page.get("Contents", [])})


def run_lifecycle(made, results, moto_url):
    tf = made.tf
    outcome = results.setdefault(made.environment, {})
    try:
        tf.run("apply", "-input=false", "-no-color", "-auto-approve", "-var-file=" + made.var_file)
        outcome["state"] = json.loads(tf.run("show", "-json").stdout)
        outcome["outputs"] = json.loads(tf.run("output", "-json").stdout)
        outcome["second_plan"] = tf.plan(made.var_file)
        # The provider's own reads of the buckets (apply, second plan) are requests S3 logs.
        outcome["access_logs"] = access_log_prefixes(moto_url, outcome["outputs"]["stack"]["value"]["bucket_names"][ACCESS_LOG_TARGET])
        outcome["destroy"] = tf.run("destroy", "-input=false", "-no-color", "-auto-approve", "-var-file=" + made.var_file, check=False)
        outcome["after_destroy"] = json.loads(tf.run("show", "-json").stdout)
    except Exception as error:  # noqa: BLE001 - reported by the tests
        outcome["error"] = error
    outcome["timings"] = dict(tf.timings)


@pytest.fixture(scope="session")
def lifecycle(roots, moto_url):
    results = {}
    threads = [threading.Thread(target=run_lifecycle, args=(made, results, moto_url)) for made in roots.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for environment, outcome in results.items():
        if "error" in outcome:
            raise outcome["error"]
        resources = managed_resources(outcome["state"])
        outcome["resource_count"] = len(resources)
        timings = outcome["timings"]
        report(
            "%s: apply %d resources in %.0f s, second plan %.0f s (exit %d), destroy %.0f s (exit %d)"
            % (environment, len(resources), timings["apply"][0], timings["plan"][-1], outcome["second_plan"].returncode,
               timings["destroy"][0], outcome["destroy"].returncode)
        )
    return results


def managed_resources(state):
    found = []

    def walk(module):
        found.extend(r for r in module.get("resources", []) if r["mode"] == "managed")
        for child in module.get("child_modules", []):
            walk(child)

    walk(state.get("values", {}).get("root_module", {}))
    return found


def of_type(outcome, rtype):
    return [r for r in managed_resources(outcome["state"]) if r["type"] == rtype]


@pytest.mark.parametrize("environment", ["development", "production"])
def test_apply_creates_every_planned_resource(lifecycle, roots, environment):
    planned = [rc for rc in roots[environment].plan["resource_changes"] if rc["mode"] == "managed"]
    assert lifecycle[environment]["resource_count"] == len(planned)


@pytest.mark.parametrize("environment", ["development", "production"])
def test_second_plan_has_no_changes(lifecycle, environment):
    second = lifecycle[environment]["second_plan"]
    assert second.returncode == 0, "plan -detailed-exitcode after apply reports changes:\n%s" % second.stdout[-6000:]


@pytest.mark.parametrize("environment", ["development", "production"])
def test_bucket_policies_deny_anything_but_tls(lifecycle, environment):
    policies = of_type(lifecycle[environment], "aws_s3_bucket_policy")
    assert len(policies) == len(of_type(lifecycle[environment], "aws_s3_bucket"))
    for policy in policies:
        statements = json.loads(policy["values"]["policy"])["Statement"]
        denies = {s["Sid"]: s for s in statements if s["Effect"] == "Deny"}
        assert denies["DenyInsecureTransport"]["Condition"]["Bool"]["aws:SecureTransport"] in ("false", ["false"])
        assert denies["DenyOutdatedTls"]["Condition"]["NumericLessThan"]["s3:TlsVersion"] in ("1.2", ["1.2"])


@pytest.mark.parametrize("environment", ["development", "production"])
def test_database_and_cache_admit_only_the_service_and_bastion_security_groups(lifecycle, environment):
    outcome = lifecycle[environment]
    groups = {r["values"]["name"]: r["values"]["id"] for r in of_type(outcome, "aws_security_group")}
    service = [gid for name, gid in groups.items() if name.endswith("-service-sg")][0]
    allowed = {service} | {gid for name, gid in groups.items() if name.endswith(("-bastion-sg", "-db-proxy-sg"))}
    rules = of_type(outcome, "aws_vpc_security_group_ingress_rule")
    assert rules
    assert [gid for name, gid in groups.items() if name.endswith("-bastion-sg")], "the bastion's group exists"
    for rule in rules:
        values = rule["values"]
        if values.get("cidr_ipv4"):
            assert values["cidr_ipv4"] != "0.0.0.0/0"
            continue
        assert values["referenced_security_group_id"] in allowed, (rule["address"], values)


@pytest.mark.parametrize("environment", ["development", "production"])
def test_everything_at_rest_uses_the_stack_key(lifecycle, environment):
    outcome = lifecycle[environment]
    key = [r for r in of_type(outcome, "aws_kms_key") if ".module.keys." in r["address"]][0]["values"]
    key_refs = {key["arn"], key["key_id"]}
    checked = 0
    for resource in managed_resources(outcome["state"]):
        if resource["address"].startswith("module.dr_backups."):
            continue  # the DR region's key: test_production_replicates_automated_backups_to_the_dr_region
        for attribute in ("kms_key_id", "kms_master_key_id", "performance_insights_kms_key_id", "master_user_secret_kms_key_id"):
            value = resource["values"].get(attribute)
            if resource["type"] in ("aws_kms_alias",) or value in (None, ""):
                continue
            assert value in key_refs, (resource["address"], attribute, value)
            checked += 1
    assert checked >= 8


def test_outputs_are_what_the_role_publishes(lifecycle):
    outputs = lifecycle["development"]["outputs"]
    assert set(outputs) == {"stack", "stack_sensitive"}
    assert outputs["stack_sensitive"]["sensitive"] is True
    stack = outputs["stack"]["value"]
    assert stack["name_prefix"] == "sensa-dev-" + DEVELOPER
    assert stack["database_master_secret_arn"].startswith("arn:aws:secretsmanager:")
    assert stack["database_port"] == 5432
    assert lifecycle["production"]["outputs"]["stack"]["value"]["name_prefix"] == "sensa-prod"


def test_development_destroy_leaves_nothing_behind(lifecycle, moto_url):
    outcome = lifecycle["development"]
    assert outcome["destroy"].returncode == 0, outcome["destroy"].stderr[-4000:]
    assert managed_resources(outcome["after_destroy"]) == []
    assert leftovers(moto_url, "sensa-dev-" + DEVELOPER) == {}


def test_production_destroy_is_stopped_by_deletion_protection(lifecycle):
    outcome = lifecycle["production"]
    assert outcome["destroy"].returncode != 0
    assert "deletion protection" in outcome["destroy"].stderr.lower() or "DeletionProtection" in outcome["destroy"].stderr
    remaining = {r["type"] for r in managed_resources(outcome["after_destroy"])}
    assert "aws_db_instance" in remaining
    # Production buckets have no force_destroy: the logs bucket, holding access logs, stays too.
    assert "BucketNotEmpty" in outcome["destroy"].stderr
    assert "aws_s3_bucket" in remaining


# --- the SSM bastion (files/terraform/modules/bastion) ------------------------------


def bastion_resources(plan, rtype):
    return [rc for rc in managed(plan, rtype) if rc["module_address"].endswith("module.bastion")]


def test_bastion_accepts_no_inbound_connection(root):
    plan = root.plan
    assert len(bastion_resources(plan, "aws_security_group")) == 1
    node, _calls = config_module(plan, "module.stack.module.bastion")
    assert not [r for r in node["resources"] if r["type"] == "aws_vpc_security_group_ingress_rule"]
    for rc in managed(plan, "aws_vpc_security_group_ingress_rule"):
        assert "module.bastion" not in rc["address"]
        refs = references(plan, rc, "security_group_id")
        assert not any("bastion" in ref for ref in refs), rc["address"]
    # The database admits the bastion's group, not a network.
    database_rules = [rc for rc in managed(plan, "aws_vpc_security_group_ingress_rule") if rc["module_address"].endswith("module.database")]
    assert all(not after(rc).get("cidr_ipv4") for rc in database_rules)
    _node, calls = config_module(plan, "module.stack.module.database")
    assert "module.bastion.security_group_id" in calls[-1]["expressions"]["bastion_security_group_id"]["references"]


def test_bastion_requires_imdsv2_and_has_no_public_address(root):
    instance = after(bastion_resources(root.plan, "aws_instance")[0])
    options = instance["metadata_options"][0]
    assert options["http_tokens"] == "required" and options["http_put_response_hop_limit"] == 1
    assert instance["associate_public_ip_address"] is False


def test_bastion_root_volume_is_encrypted_with_the_stack_key(root):
    rc = bastion_resources(root.plan, "aws_instance")[0]
    volume = after(rc)["root_block_device"][0]
    assert volume["encrypted"] is True
    assert rc["change"]["after_unknown"]["root_block_device"][0].get("kms_key_id") is True
    _node, calls = config_module(root.plan, rc["module_address"])
    assert "module.keys.key_arn" in calls[-1]["expressions"]["kms_key_arn"]["references"]


def test_bastion_role_has_the_ssm_core_policy_only(root):
    attachments = bastion_resources(root.plan, "aws_iam_role_policy_attachment")
    assert len(attachments) == 1
    assert after(attachments[0])["policy_arn"].endswith(":iam::aws:policy/AmazonSSMManagedInstanceCore")
    assert not bastion_resources(root.plan, "aws_iam_role_policy")
    assert not bastion_resources(root.plan, "aws_iam_policy")


# --- review findings (issue 13, Build 7) --------------------------------------------


def test_alarms_cover_every_cache_node_memory_latency_and_running_tasks(roots):
    plan = roots["production"].plan
    alarms = {after(rc)["alarm_name"]: after(rc) for rc in managed(plan, "aws_cloudwatch_metric_alarm")}
    metrics = {alarm["metric_name"] for alarm in alarms.values()}
    assert {"FreeableMemory", "ReadLatency", "WriteLatency", "RunningTaskCount"} <= metrics
    assert "ReplicaLag" not in metrics, "no read replica exists, so no replica-lag alarm"
    nodes = plan["variables"]["cache_node_count"]["value"]
    cache_alarms = sorted(name for name, alarm in alarms.items() if alarm["namespace"] == "AWS/ElastiCache")
    assert cache_alarms == sorted("sensa-prod-cache-%s-%03d" % (kind, n) for kind in ("memory", "evictions") for n in range(1, nodes + 1))
    assert not managed(roots["development"].plan, "aws_cloudwatch_metric_alarm")


def test_rds_log_groups_are_terraform_managed_with_retention_and_the_key(root):
    plan = root.plan
    db = after(one(plan, "aws_db_instance"))
    groups = {after(rc)["name"]: rc for rc in managed(plan, "aws_cloudwatch_log_group") if after(rc)["name"].startswith("/aws/rds/")}
    expected = {"/aws/rds/instance/%s/%s" % (db["identifier"], kind) for kind in db["enabled_cloudwatch_logs_exports"]}
    expected |= {"/aws/rds/proxy/%s" % after(rc)["name"] for rc in managed(plan, "aws_db_proxy")}
    assert len(expected) == len(db["enabled_cloudwatch_logs_exports"]) + (root.environment == "production")
    assert set(groups) == expected
    for rc in groups.values():
        assert after(rc)["retention_in_days"] > 0
        from_the_stack_key(plan, rc, "kms_key_id")


def test_final_snapshot_identifier_is_unique_and_parameter_group_replaceable(root):
    db = after(one(root.plan, "aws_db_instance"))
    assert re.match(r"^sensa-.*-db-final-\d{14}$", db["final_snapshot_identifier"]), db["final_snapshot_identifier"]
    group = one(root.plan, "aws_db_parameter_group")
    assert after(group)["name_prefix"].endswith("-pg15-") and group["change"]["after_unknown"].get("name") is True


def test_service_trust_policies_name_the_source_account(root):
    checked = set()
    for rc in managed(root.plan, "aws_iam_role"):
        policy = json.loads(after(rc)["assume_role_policy"])
        assert policy["Statement"], rc["address"]
        for statement in policy["Statement"]:
            assert statement["Effect"] == "Allow" and statement["Action"] == "sts:AssumeRole", rc["address"]
            assert set(statement["Principal"]) == {"Service"}, rc["address"]
            assert re.fullmatch(r"\d{12}", statement["Condition"]["StringEquals"]["aws:SourceAccount"]), rc["address"]
        checked.add(re.sub(r"\[.*\]$", "", rc["module_address"].split(".")[-1]) + "." + rc["name"])
    expected = {"database.monitoring", "network.flow_logs", "compute.execution", "compute.task", "bastion.bastion"}
    if root.environment == "production":
        expected |= {"database.proxy", "audit.trail"}
    assert expected <= checked, checked


# --- CloudTrail, access logs, RDS Proxy, pg_stat_statements, IAM auth, DR --------------
# (issue 13 item 7, issue 17's pooling, issue 16's production DR, issue 15's IAM auth)


def statements_by_sid(policy_json):
    return {statement.get("Sid", ""): statement for statement in json.loads(policy_json)["Statement"]}


def test_production_trail_records_management_events_validated_and_encrypted(roots):
    plan = roots["production"].plan
    trail_rc = one(plan, "aws_cloudtrail")
    trail = after(trail_rc)
    assert trail["name"] == "sensa-prod-trail"
    assert trail["enable_log_file_validation"] is True and trail["enable_logging"] is True
    assert trail["is_multi_region_trail"] is True and trail["include_global_service_events"] is True
    assert trail["event_selector"] == [
        {"data_resource": [], "exclude_management_event_sources": None, "include_management_events": True, "read_write_type": "All"}
    ] or (trail["event_selector"][0]["include_management_events"] is True and trail["event_selector"][0]["read_write_type"] == "All")
    from_the_stack_key(plan, trail_rc, "kms_key_id")
    assert "var.bucket_name" in references(plan, trail_rc, "s3_bucket_name")
    _node, calls = config_module(plan, trail_rc["module_address"])
    assert "module.storage.trail_bucket_name" in calls[-1]["expressions"]["bucket_name"]["references"]
    assert known_or_computed(trail_rc, "cloud_watch_logs_group_arn") and known_or_computed(trail_rc, "cloud_watch_logs_role_arn")


def test_the_key_policy_admits_only_the_stacks_trail(roots):
    for environment, made in roots.items():
        statements = statements_by_sid(after(stack_key(made.plan))["policy"])
        if environment == "development":
            assert not [sid for sid in statements if sid.startswith("CloudTrail")], "development has no trail"
            continue
        encrypt, describe = statements["CloudTrailEncryptLogs"], statements["CloudTrailDescribeKey"]
        for statement in (encrypt, describe):
            assert statement["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
            assert re.fullmatch(r"arn:aws:cloudtrail:eu-west-1:\d{12}:trail/sensa-prod-trail", statement["Condition"]["StringEquals"]["aws:SourceArn"])
        assert encrypt["Action"] == "kms:GenerateDataKey*" and describe["Action"] == "kms:DescribeKey"
        assert re.fullmatch(r"arn:aws:cloudtrail:\*:\d{12}:trail/\*", encrypt["Condition"]["StringLike"]["kms:EncryptionContext:aws:cloudtrail:arn"])


def test_every_bucket_but_the_target_sends_its_access_logs_to_the_logs_bucket(root):
    plan = root.plan
    buckets = {rc["index"] for rc in managed(plan, "aws_s3_bucket")}
    assert ACCESS_LOG_TARGET in buckets and ("trail" in buckets) == (root.environment == "production")
    logging = {rc["index"]: rc for rc in managed(plan, "aws_s3_bucket_logging")}
    assert set(logging) == buckets - {ACCESS_LOG_TARGET}
    for key, rc in logging.items():
        assert after(rc)["target_prefix"] == key + "/"
        assert "aws_s3_bucket.main" in references(plan, rc, "target_bucket")


def test_production_proxy_requires_tls_and_authenticates_with_the_application_secret(roots):
    plan = roots["production"].plan
    proxy_rc = one(plan, "aws_db_proxy")
    proxy = after(proxy_rc)
    assert proxy["engine_family"] == "POSTGRESQL" and proxy["require_tls"] is True and proxy["debug_logging"] is False
    (auth,) = proxy["auth"]
    assert auth["auth_scheme"] == "SECRETS" and auth["iam_auth"] == "DISABLED" and auth["client_password_auth_type"] == "POSTGRES_SCRAM_SHA_256"
    assert "aws_secretsmanager_secret.application" in references(plan, proxy_rc, "auth")
    assert "var.subnet_ids" in references(plan, proxy_rc, "vpc_subnet_ids")
    target = one(plan, "aws_db_proxy_target")
    assert "aws_db_instance.main" in references(plan, target, "db_instance_identifier")
    assert one(plan, "aws_db_proxy_default_target_group")
    for environment in ("development",):
        assert not managed(roots[environment].plan, "aws_db_proxy")


def test_production_database_admits_the_proxy_and_the_bastion_and_the_proxy_only_the_service(roots):
    plan = roots["production"].plan
    rules = managed(plan, "aws_vpc_security_group_ingress_rule")
    database = {
        rc["name"] for rc in rules
        if rc["module_address"].endswith("module.database") and "aws_security_group.database.id" in references(plan, rc, "security_group_id")
    }
    assert database == {"from_proxy", "from_bastion"}, database
    proxy = [rc for rc in rules if "aws_security_group.proxy[0].id" in references(plan, rc, "security_group_id") or rc["name"] == "proxy_from_clients"]
    assert [rc["name"] for rc in proxy] == ["proxy_from_clients"]
    assert references(plan, proxy[0], "referenced_security_group_id")[0].startswith("var.client_security_group_ids")
    _node, calls = config_module(plan, "module.stack.module.database")
    assert "module.network.service_security_group_id" in calls[-1]["expressions"]["client_security_group_ids"]["references"]
    development = roots["development"].plan
    names = {rc["name"] for rc in managed(development, "aws_vpc_security_group_ingress_rule") if rc["module_address"].endswith("module.database")}
    assert names == {"from_clients", "from_bastion"}, names


def test_parameter_group_preloads_pg_stat_statements(root):
    parameters = {p["name"]: p for p in after(one(root.plan, "aws_db_parameter_group"))["parameter"]}
    preload = parameters["shared_preload_libraries"]
    assert "pg_stat_statements" in [name.strip() for name in preload["value"].split(",")]
    assert preload["apply_method"] == "pending-reboot"
    assert parameters["pg_stat_statements.track"]["value"] in ("top", "all")
    assert parameters["rds.force_ssl"]["value"] == "1"


def test_database_enables_iam_authentication(root):
    db = after(one(root.plan, "aws_db_instance"))
    assert db["iam_database_authentication_enabled"] is True


def test_production_replicates_automated_backups_to_the_dr_region(roots):
    plan = roots["production"].plan
    dr_region = plan["variables"]["dr_region"]["value"]
    assert dr_region != plan["variables"]["aws_region"]["value"]
    replication = one(plan, "aws_db_instance_automated_backups_replication")
    assert replication["module_address"] == "module.dr_backups"
    assert after(replication)["retention_period"] == plan["variables"]["dr_backup_retention_days"]["value"]
    assert "local.dr_kms_key_arn" in references(plan, replication, "kms_key_id")
    # Every resource of the module goes through the DR provider, configured for var.dr_region.
    providers = plan["configuration"]["provider_config"]
    assert "var.dr_region" in providers["aws.dr"]["expressions"]["region"]["references"]
    node, calls = config_module(plan, "module.dr_backups")
    assert calls[-1]["expressions"]["source_db_instance_arn"]["references"][0].startswith("module.stack")
    assert {r["provider_config_key"] for r in node["resources"] if r["mode"] == "managed"} == {"aws.dr"}
    dr_keys = in_module(plan, "aws_kms_key", "dr_backups")
    assert len(dr_keys) == 1 and after(dr_keys[0])["enable_key_rotation"] is True
    assert not managed(roots["development"].plan, "aws_db_instance_automated_backups_replication")


# After apply: what the plan could not know (ARNs, endpoints, policies built from them).


def test_applied_bucket_policies_admit_log_delivery_and_the_trail_only(lifecycle):
    for environment, outcome in lifecycle.items():
        buckets = {r["index"]: r["values"] for r in of_type(outcome, "aws_s3_bucket")}
        policies = {r["index"]: statements_by_sid(r["values"]["policy"]) for r in of_type(outcome, "aws_s3_bucket_policy")}
        delivery = policies[ACCESS_LOG_TARGET]["S3ServerAccessLogDelivery"]
        assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"} and delivery["Action"] == "s3:PutObject"
        assert delivery["Resource"] == buckets[ACCESS_LOG_TARGET]["arn"] + "/*"
        assert re.fullmatch(r"\d{12}", delivery["Condition"]["StringEquals"]["aws:SourceAccount"])
        sources = delivery["Condition"]["ArnLike"]["aws:SourceArn"]
        sources = [sources] if isinstance(sources, str) else sources
        assert sorted(sources) == sorted(b["arn"] for key, b in buckets.items() if key != ACCESS_LOG_TARGET)
        for key in buckets:
            allowed = {sid for sid, st in policies[key].items() if st["Effect"] == "Allow"}
            expected = {ACCESS_LOG_TARGET: {"S3ServerAccessLogDelivery"}, "trail": {"CloudTrailAclCheck", "CloudTrailWrite"}}.get(key, set())
            assert allowed == expected, (environment, key, allowed)
        logging = {r["index"]: r["values"] for r in of_type(outcome, "aws_s3_bucket_logging")}
        target = buckets[ACCESS_LOG_TARGET]["bucket"]
        assert {key: v["target_bucket"] for key, v in logging.items()} == {key: target for key in buckets if key != ACCESS_LOG_TARGET}
    production = lifecycle["production"]
    (trail,) = of_type(production, "aws_cloudtrail")
    trail_policy = {r["index"]: statements_by_sid(r["values"]["policy"]) for r in of_type(production, "aws_s3_bucket_policy")}["trail"]
    assert trail["values"]["s3_bucket_name"] == [r["values"]["bucket"] for r in of_type(production, "aws_s3_bucket") if r["index"] == "trail"][0]
    for sid in ("CloudTrailAclCheck", "CloudTrailWrite"):
        assert trail_policy[sid]["Condition"]["StringEquals"]["aws:SourceArn"] == trail["values"]["arn"]
    assert trail_policy["CloudTrailWrite"]["Condition"]["StringEquals"]["s3:x-amz-acl"] == "bucket-owner-full-control"
    key = [r for r in of_type(production, "aws_kms_key") if ".module.keys." in r["address"]][0]["values"]
    assert trail["values"]["kms_key_id"] == key["arn"]
    assert statements_by_sid(key["policy"])["CloudTrailEncryptLogs"]["Condition"]["StringEquals"]["aws:SourceArn"] == trail["values"]["arn"]


def test_applied_proxy_reads_only_the_application_secret_and_is_the_applications_endpoint(lifecycle):
    production = lifecycle["production"]
    (proxy,) = of_type(production, "aws_db_proxy")
    (secret,) = [r for r in of_type(production, "aws_secretsmanager_secret") if r["name"] == "application"]
    assert proxy["values"]["auth"][0]["secret_arn"] == secret["values"]["arn"]
    (policy,) = [r for r in of_type(production, "aws_iam_role_policy") if r["address"].endswith("aws_iam_role_policy.proxy[0]")]
    statements = statements_by_sid(policy["values"]["policy"])
    assert set(statements) == {"ReadApplicationSecret", "DecryptApplicationSecret"}
    assert statements["ReadApplicationSecret"]["Resource"] == secret["values"]["arn"]
    assert statements["ReadApplicationSecret"]["Action"] == "secretsmanager:GetSecretValue"
    key = [r for r in of_type(production, "aws_kms_key") if ".module.keys." in r["address"]][0]["values"]
    assert statements["DecryptApplicationSecret"]["Resource"] == key["arn"]
    assert statements["DecryptApplicationSecret"]["Condition"]["StringEquals"]["kms:ViaService"] == "secretsmanager.eu-west-1.amazonaws.com"
    (target,) = of_type(production, "aws_db_proxy_target")
    (db,) = of_type(production, "aws_db_instance")
    assert target["values"]["db_instance_identifier"] == db["values"]["identifier"]
    for environment, outcome in lifecycle.items():
        stack = outcome["outputs"]["stack"]["value"]
        (db,) = of_type(outcome, "aws_db_instance")
        assert stack["database_address"] == db["values"]["address"], "the database play and the bastion path use the instance itself"
        expected = proxy["values"]["endpoint"] if environment == "production" else db["values"]["address"]
        assert stack["application_database_host"] == expected
        assert stack["database_proxy_endpoint"] == (expected if environment == "production" else None)
        (task,) = of_type(outcome, "aws_ecs_task_definition")
        environment_variables = {e["name"]: e["value"] for e in json.loads(task["values"]["container_definitions"])[0]["environment"]}
        assert environment_variables["DATABASE_HOST"] == expected


def test_applied_dr_outputs_name_the_replicated_backups_and_the_dr_key(lifecycle):
    production = lifecycle["production"]
    stack = production["outputs"]["stack"]["value"]
    dr_region = "eu-central-1"
    assert stack["dr_region"] == dr_region
    (replication,) = of_type(production, "aws_db_instance_automated_backups_replication")
    assert stack["dr_automated_backups_arn"] == replication["values"]["id"]
    assert re.fullmatch(r"arn:aws:rds:%s:\d{12}:auto-backup:ab-[0-9a-z]+" % dr_region, stack["dr_automated_backups_arn"])
    (dr_key,) = [r for r in of_type(production, "aws_kms_key") if r["address"].startswith("module.dr_backups.")]
    assert stack["dr_kms_key_arn"] == dr_key["values"]["arn"] == replication["values"]["kms_key_id"]
    assert dr_key["values"]["arn"].startswith("arn:aws:kms:%s:" % dr_region)
    (db,) = of_type(production, "aws_db_instance")
    assert replication["values"]["source_db_instance_arn"] == db["values"]["arn"]
    assert not {key for key in lifecycle["development"]["outputs"]["stack"]["value"] if key.startswith("dr_")}


def test_access_logs_really_arrive_in_the_logs_bucket(lifecycle):
    """moto's S3 delivers server access logs like S3 does: every sending bucket's prefix has some."""
    for environment, outcome in lifecycle.items():
        senders = sorted(r["index"] + "/" for r in of_type(outcome, "aws_s3_bucket") if r["index"] != ACCESS_LOG_TARGET)
        assert outcome["access_logs"] == senders, (environment, outcome["access_logs"])
