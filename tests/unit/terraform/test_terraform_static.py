"""Static proof of files/terraform: every .tf parses, the properties issue 5 asks for hold
in the parsed HCL, and checkov finds no failed check on either root module.

Nothing here runs Terraform (no terraform or tofu binary exists on these machines):
python-hcl2 parses the files and checkov evaluates them, module calls and variable
defaults included.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys

import hcl2
import pytest

from support.collection import REPO_ROOT

TF_DIR = os.path.join(REPO_ROOT, "files", "terraform")
ROOTS = ("development", "production")
MODULES = ("network", "database", "cache", "compute", "storage", "keys", "monitoring")
TF_FILES = sorted(glob.glob(os.path.join(TF_DIR, "**", "*.tf"), recursive=True))
CHECKOV = os.path.join(os.path.dirname(sys.executable), "checkov")

# Resource types that cannot carry tags; every other resource must set `tags`.
UNTAGGABLE = {
    "aws_route",
    "aws_route_table_association",
    "aws_iam_role_policy",
    "aws_iam_role_policy_attachment",
    "aws_kms_alias",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_versioning",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_policy",
    "aws_s3_bucket_lifecycle_configuration",
    "aws_secretsmanager_secret_version",
    "aws_sns_topic_subscription",
    "aws_appautoscaling_policy",
}


def load(path):
    with open(path) as handle:
        return hcl2.load(handle)


def first(value):
    """python-hcl2 wraps attribute values in one-element lists."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def load_dir(path):
    """Merge the .tf files of one module directory into {kind: [blocks]}."""
    merged = {}
    for name in sorted(glob.glob(os.path.join(path, "*.tf"))):
        for kind, blocks in load(name).items():
            merged.setdefault(kind, []).extend(blocks)
    return merged


def resources(module, rtype=None):
    """[(type, name, body)] of a module directory."""
    found = []
    for block in load_dir(os.path.join(TF_DIR, "modules", module)).get("resource", []):
        for type_, named in block.items():
            for name, body in named.items():
                if rtype in (None, type_):
                    found.append((type_, name, body))
    return found


def resource(module, rtype, name):
    for _type, name_, body in resources(module, rtype):
        if name_ == name:
            return body
    raise AssertionError("%s.%s not found in module %s" % (rtype, name, module))


def module_call(root, name):
    for block in load_dir(os.path.join(TF_DIR, root)).get("module", []):
        if name in block:
            return {k: first(v) for k, v in block[name].items()}
    raise AssertionError("module %s not called from %s" % (name, root))


def variables(path):
    out = {}
    for block in load_dir(path).get("variable", []):
        out.update(block)
    return out


def variable_default(root, name):
    return first(variables(os.path.join(TF_DIR, root))[name]["default"])


# --- parsing and structure ----------------------------------------------------------


def test_layout_has_every_module_and_root():
    for name in MODULES:
        assert glob.glob(os.path.join(TF_DIR, "modules", name, "*.tf")), name
    for name in ROOTS:
        for part in ("versions.tf", "variables.tf", "main.tf", "outputs.tf"):
            assert os.path.isfile(os.path.join(TF_DIR, name, part)), (name, part)


@pytest.mark.parametrize("path", TF_FILES, ids=[os.path.relpath(p, TF_DIR) for p in TF_FILES])
def test_every_tf_file_parses(path):
    assert isinstance(load(path), dict)


@pytest.mark.parametrize("path", [os.path.join(TF_DIR, r) for r in ROOTS] + [os.path.join(TF_DIR, "modules", m) for m in MODULES])
def test_terraform_and_provider_versions_are_pinned(path):
    terraform = first(load_dir(path)["terraform"])
    assert re.match(r"^>= 1\.\d+\.\d+, < 2\.0\.0$", first(terraform["required_version"]))
    providers = first(terraform["required_providers"])
    aws = first(providers["aws"])
    assert aws["source"] == "hashicorp/aws"
    assert re.match(r"^>= 5\.\d+\.\d+, < 6\.0\.0$", aws["version"]), "AWS provider needs an upper-bounded constraint"
    for spec in providers.values():
        assert first(spec).get("version"), "every provider is pinned by a version constraint"


@pytest.mark.parametrize("root", ROOTS)
def test_backend_is_s3_with_partial_configuration(root):
    terraform = first(load_dir(os.path.join(TF_DIR, root))["terraform"])
    backend = first(terraform["backend"])
    assert list(backend) == ["s3"]
    settings = backend["s3"]
    # Location and locking come from the inventory through -backend-config.
    for key in ("bucket", "key", "region", "dynamodb_table", "use_lockfile", "profile", "access_key", "secret_key"):
        assert key not in settings, "%s must not be hard-coded in the backend block" % key
    assert first(settings["encrypt"]) is True


@pytest.mark.parametrize("path", [os.path.join(TF_DIR, r) for r in ROOTS] + [os.path.join(TF_DIR, "modules", m) for m in MODULES])
def test_variables_are_typed_and_described(path):
    for name, spec in variables(path).items():
        assert first(spec.get("type")), "%s: variable %s has no type" % (path, name)
        assert first(spec.get("description")), "%s: variable %s has no description" % (path, name)


@pytest.mark.parametrize("root", ROOTS)
def test_root_variables_are_validated(root):
    for name, spec in variables(os.path.join(TF_DIR, root)).items():
        assert spec.get("validation"), "%s: variable %s has no validation block" % (root, name)


@pytest.mark.parametrize("path", [os.path.join(TF_DIR, r) for r in ROOTS] + [os.path.join(TF_DIR, "modules", m) for m in MODULES])
def test_outputs_are_documented(path):
    for block in load_dir(path).get("output", []):
        for name, spec in block.items():
            assert first(spec.get("description")), "%s: output %s has no description" % (path, name)


@pytest.mark.parametrize("root", ROOTS)
def test_root_outputs_cover_what_the_database_stages_need(root):
    outputs = {}
    for block in load_dir(os.path.join(TF_DIR, root)).get("output", []):
        outputs.update(block)
    for name in (
        "database_address",
        "database_port",
        "database_name",
        "database_master_secret_arn",
        "application_secret_name",
        "database_security_group_id",
        "service_security_group_id",
        "cache_security_group_id",
        "cache_endpoint",
        "aws_region",
    ):
        assert name in outputs, name
    assert first(outputs["database_master_secret_arn"]["value"]) == "${module.database.master_user_secret_arn}"
    assert first(outputs["database_master_username"].get("sensitive")) is True


# --- secrets ------------------------------------------------------------------------


def test_no_password_variable_or_attribute_anywhere():
    for path in TF_FILES:
        for block in load(path).get("variable", []):
            for name in block:
                assert not re.search(r"pass(word)?|secret_value", name, re.I), "%s: variable %s" % (path, name)
        with open(path) as handle:
            text = handle.read()
        assert not re.search(r"^\s*(password|master_password)\s*=", text, re.M), path
        assert "db_password" not in text, path


def test_master_password_is_managed_by_rds_in_secrets_manager():
    db = resource("database", "aws_db_instance", "main")
    assert first(db["manage_master_user_password"]) is True
    assert first(db["master_user_secret_kms_key_id"]) == "${var.kms_key_arn}"
    assert "password" not in db


# --- database -----------------------------------------------------------------------


def test_parameter_group_forces_tls_logs_slow_statements_and_loads_pg_stat_statements():
    group = resource("database", "aws_db_parameter_group", "main")
    assert first(group["family"]) == "postgres15"
    params = {first(p["name"]): first(p["value"]) for p in group["parameter"]}
    assert params["rds.force_ssl"] == "1"
    assert "log_min_duration_statement" in params
    assert "pg_stat_statements" in params["shared_preload_libraries"].split(",")


def test_database_is_private_encrypted_and_observable():
    db = resource("database", "aws_db_instance", "main")
    assert first(db["engine"]) == "postgres"
    assert first(db["publicly_accessible"]) is False
    assert first(db["storage_encrypted"]) is True
    assert first(db["kms_key_id"]) == "${var.kms_key_arn}"
    assert first(db["storage_type"]) == "gp3"
    assert first(db["parameter_group_name"]) == "${aws_db_parameter_group.main.name}"
    assert first(db["performance_insights_enabled"]) is True
    assert first(db["performance_insights_kms_key_id"]) == "${var.kms_key_arn}"
    assert first(db["monitoring_role_arn"])
    assert first(db["max_allocated_storage"]) == "${var.max_allocated_storage}"


def test_production_database_is_highly_available_and_protected():
    call = module_call("production", "database")
    assert call["multi_az"] is True
    assert call["deletion_protection"] is True
    assert call["skip_final_snapshot"] is False
    assert call["monitoring_interval"] > 0
    assert variable_default("production", "db_instance_class") == "db.r6g.large"
    assert variable_default("production", "db_backup_retention_days") >= 7
    db = resource("database", "aws_db_instance", "main")
    assert first(db["final_snapshot_identifier"])
    assert first(db["backup_window"]) == "${var.backup_window}"
    assert first(db["backup_retention_period"]) == "${var.backup_retention_days}"


def test_development_database_is_the_cost_optimised_one():
    call = module_call("development", "database")
    assert call["multi_az"] is False
    assert variable_default("development", "db_instance_class") == "db.t4g.medium"
    assert variable_default("development", "db_max_allocated_storage") > variable_default("development", "db_allocated_storage")


# --- network and security groups ----------------------------------------------------


def test_nat_gateways_per_environment():
    assert module_call("production", "network")["nat_gateway_per_az"] is True
    assert module_call("development", "network")["nat_gateway_per_az"] is False


def test_no_ingress_from_the_whole_internet():
    for path in TF_FILES:
        for block in load(path).get("resource", []):
            for type_, named in block.items():
                for name, body in named.items():
                    if type_ == "aws_vpc_security_group_ingress_rule":
                        assert first(body.get("cidr_ipv4")) not in ("0.0.0.0/0",), (path, name)
                        assert "cidr_ipv6" not in body, (path, name)
                    if type_ == "aws_security_group":
                        assert "ingress" not in body, "%s: inline ingress on %s; use rule resources" % (path, name)


def test_database_is_reachable_only_from_the_service_and_admin_cidrs():
    rules = resources("database", "aws_vpc_security_group_ingress_rule")
    assert {name for _kind, name, _body in rules} == {"from_clients", "from_admin"}
    bodies = {name: body for _kind, name, body in rules}
    assert first(bodies["from_clients"]["referenced_security_group_id"]) == "${var.client_security_group_ids[count.index]}"
    assert first(bodies["from_admin"]["cidr_ipv4"]) == "${each.value}"
    for root in ROOTS:
        assert module_call(root, "database")["client_security_group_ids"] == ["${module.network.service_security_group_id}"]
    for path in (os.path.join(TF_DIR, "modules", "database"),) + tuple(os.path.join(TF_DIR, r) for r in ROOTS):
        spec = variables(path)["admin_cidr_blocks"]
        condition = first(first(spec["validation"])["condition"])
        assert "0.0.0.0/0" in condition and "::/0" in condition, path


# --- cache, compute, monitoring -----------------------------------------------------


def test_cache_is_encrypted_in_transit_and_at_rest():
    group = resource("cache", "aws_elasticache_replication_group", "main")
    assert first(group["at_rest_encryption_enabled"]) is True
    assert first(group["transit_encryption_enabled"]) is True
    assert first(group["kms_key_id"]) == "${var.kms_key_arn}"
    assert first(group["auth_token"])
    assert first(group["automatic_failover_enabled"]) == "${var.automatic_failover}"
    assert first(group["multi_az_enabled"]) == "${var.automatic_failover}"


def test_cache_sizes_per_environment():
    prod = module_call("production", "cache")
    assert prod["automatic_failover"] is True
    assert variable_default("production", "cache_node_count") >= 2
    dev = module_call("development", "cache")
    assert dev["automatic_failover"] is False and dev["node_count"] == 1
    assert variable_default("development", "cache_node_type") == "cache.t4g.micro"


def test_service_autoscaling_in_production_only():
    assert module_call("production", "compute")["autoscaling_enabled"] is True
    assert module_call("development", "compute")["autoscaling_enabled"] is False
    assert resource("compute", "aws_appautoscaling_policy", "cpu")
    service = resource("compute", "aws_ecs_service", "app")
    assert first(first(service["network_configuration"])["assign_public_ip"]) is False


def test_production_alarms_go_to_an_encrypted_sns_topic():
    assert module_call("production", "monitoring")["alarms_enabled"] is True
    alarm = resource("monitoring", "aws_cloudwatch_metric_alarm", "main")
    assert first(alarm["alarm_actions"]) == ["${aws_sns_topic.alarms.arn}"]
    assert first(resource("monitoring", "aws_sns_topic", "alarms")["kms_master_key_id"]) == "${var.kms_key_arn}"
    with open(os.path.join(TF_DIR, "modules", "monitoring", "main.tf")) as handle:
        text = handle.read()
    for metric in ("CPUUtilization", "FreeStorageSpace", "DatabaseConnections", "ReplicaLag", "DatabaseMemoryUsagePercentage", "Evictions"):
        assert '"%s"' % metric in text, metric


# --- encryption at rest everywhere --------------------------------------------------


def test_kms_everywhere_at_rest():
    for module in MODULES:
        for type_, name, body in resources(module):
            where = "%s: %s.%s" % (module, type_, name)
            if type_ == "aws_cloudwatch_log_group":
                assert first(body["kms_key_id"]) == "${var.kms_key_arn}", where
            if type_ == "aws_secretsmanager_secret":
                assert first(body["kms_key_id"]) == "${var.kms_key_arn}", where
            if type_ == "aws_sns_topic":
                assert first(body["kms_master_key_id"]) == "${var.kms_key_arn}", where
    key = resource("keys", "aws_kms_key", "main")
    assert first(key["enable_key_rotation"]) is True
    for root in ROOTS:
        for name in ("network", "database", "cache", "compute", "storage", "monitoring"):
            assert module_call(root, name)["kms_key_arn"] == "${module.keys.key_arn}", (root, name)


# --- S3 -----------------------------------------------------------------------------


def test_buckets_block_public_access_version_encrypt_and_require_tls():
    pab = resource("storage", "aws_s3_bucket_public_access_block", "main")
    for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        assert first(pab[flag]) is True, flag
    versioning = resource("storage", "aws_s3_bucket_versioning", "main")
    assert first(first(versioning["versioning_configuration"])["status"]) == "Enabled"
    sse = first(first(resource("storage", "aws_s3_bucket_server_side_encryption_configuration", "main")["rule"])["apply_server_side_encryption_by_default"])
    assert first(sse["sse_algorithm"]) == "aws:kms" and first(sse["kms_master_key_id"]) == "${var.kms_key_arn}"
    storage = load_dir(os.path.join(TF_DIR, "modules", "storage"))
    policy = [b["tls_only"] for b in storage["data"] if "aws_iam_policy_document" in b for b in [b["aws_iam_policy_document"]]][0]
    deny = [s for s in policy["statement"] if first(s["effect"]) == "Deny"]
    assert any(first(first(s["condition"])["variable"]) == "aws:SecureTransport" and first(first(s["condition"])["values"]) == ["false"] for s in deny)
    assert first(resource("storage", "aws_s3_bucket_policy", "tls_only")["policy"])


def test_log_bucket_has_a_retention_lifecycle():
    lifecycle = resource("storage", "aws_s3_bucket_lifecycle_configuration", "main")
    dynamic = first(lifecycle["dynamic"])["rule"]
    assert "logs" in first(dynamic["for_each"])
    content = first(dynamic["content"])
    assert first(content["expiration"]) and first(content["transition"])
    assert len(lifecycle["rule"]) >= 2  # abort incomplete uploads, expire noncurrent versions


# --- names and tags -----------------------------------------------------------------


@pytest.mark.parametrize("root", ROOTS)
def test_names_carry_developer_id_and_tags_are_standard(root):
    data = load_dir(os.path.join(TF_DIR, root))
    local = first(data["locals"])
    assert "${var.developer_id}" in first(local["name_prefix"])
    tags = first(local["tags"])
    for key in ("Project", "Environment", "Developer", "ManagedBy"):
        assert "'%s'" % key in tags, key
    provider = first(data["provider"])["aws"]
    assert first(first(provider["default_tags"])["tags"]) == "${local.tags}"
    for block in data["module"]:
        for name, call in block.items():
            assert first(call["name_prefix"]) == "${local.name_prefix}", name
            assert first(call["tags"]) == "${local.tags}", name


def test_every_taggable_resource_sets_tags():
    for module in MODULES:
        for type_, name, body in resources(module):
            if type_ not in UNTAGGABLE:
                assert "tags" in body, "%s: %s.%s has no tags" % (module, type_, name)


# --- checkov ------------------------------------------------------------------------


def run_checkov(directories):
    """Run checkov on each directory (in parallel) and return {directory: report}.

    One process per root: checkov 3.1.47 given several -d options evaluates the shared
    modules with the first root's variable values again for the second root, so a
    production-only finding could hide (observed while writing this test).
    """
    procs = {}
    for directory in directories:
        argv = [CHECKOV, "-d", directory, "--framework", "terraform", "--compact", "-o", "json", "--skip-download"]
        procs[directory] = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, BC_SKIP_MAPPING="TRUE"))
    reports = {}
    for directory, proc in procs.items():
        out, err = proc.communicate(timeout=600)
        assert out.strip(), "checkov printed nothing for %s (rc %s): %s" % (directory, proc.returncode, err[-2000:])
        report = json.loads(out)
        reports[directory] = report[0] if isinstance(report, list) else report
    return reports


def failed_checks(report):
    return [(c["check_id"], c["resource"], c.get("file_path")) for c in report["results"].get("failed_checks", [])]


@pytest.fixture(scope="module")
def checkov_reports():
    return run_checkov([os.path.join(TF_DIR, root) for root in ROOTS])


@pytest.mark.parametrize("root", ROOTS)
def test_checkov_passes_on_root(checkov_reports, root):
    report = checkov_reports[os.path.join(TF_DIR, root)]
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 100, "checkov evaluated too little: %s" % report["summary"]
    assert failed_checks(report) == [], json.dumps(failed_checks(report), indent=1)


@pytest.mark.parametrize("root", ROOTS)
def test_every_checkov_waiver_gives_a_reason(checkov_reports, root):
    for check in checkov_reports[os.path.join(TF_DIR, root)]["results"].get("skipped_checks", []):
        reason = check["check_result"].get("suppress_comment") or ""
        assert len(reason) > 20, "waiver of %s on %s has no real reason" % (check["check_id"], check["resource"])


def test_checkov_failures_are_detected(tmp_path):
    """The gate itself: a public, unencrypted database makes the report fail."""
    shutil.copytree(os.path.join(TF_DIR, "modules"), tmp_path / "modules")
    shutil.copytree(os.path.join(TF_DIR, "development"), tmp_path / "development")
    with open(tmp_path / "development" / "bad.tf", "w") as handle:
        handle.write(
            'resource "aws_db_instance" "bad" {\n  engine = "postgres"\n  instance_class = "db.t4g.micro"\n'
            "  publicly_accessible = true\n  storage_encrypted = false\n}\n"
        )
    report = run_checkov([str(tmp_path / "development")])[str(tmp_path / "development")]
    ids = {check_id for check_id, resource_, _detail in failed_checks(report) if resource_ == "aws_db_instance.bad"}
    assert {"CKV_AWS_16", "CKV_AWS_17"} <= ids
