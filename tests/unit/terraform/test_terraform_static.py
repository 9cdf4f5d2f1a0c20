"""Static checks of files/terraform: every .tf parses, module-level properties hold in the
parsed HCL, and checkov finds no failed check on either root module.

The environment-level properties (what each root plans: Multi-AZ, deletion protection,
NAT gateways, encryption with the stack's key, names, tags, ingress) are asserted on the
real plans of the real CLI in tests/terraform (the real-Terraform stage), which says them
better than the HCL can. Nothing here needs Terraform.
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
MODULES = ("network", "database", "cache", "compute", "storage", "keys", "monitoring", "bastion", "audit", "dr_backups",
           "service_trust", "stack")
TF_FILES = sorted(glob.glob(os.path.join(TF_DIR, "**", "*.tf"), recursive=True))
CHECKOV = os.path.join(os.path.dirname(sys.executable), "checkov")

# Resource types that cannot carry tags; every other resource must set `tags`.
UNTAGGABLE = {
    "aws_route",
    "aws_db_instance_automated_backups_replication",  # no tags argument in the provider
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
    "aws_s3_bucket_logging",
    "aws_db_proxy_default_target_group",
    "aws_db_proxy_target",
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


@pytest.mark.parametrize("path", [os.path.join(TF_DIR, r) for r in ROOTS] + [os.path.join(TF_DIR, "modules", m) for m in MODULES])
def test_outputs_are_documented(path):
    for block in load_dir(path).get("output", []):
        for name, spec in block.items():
            assert first(spec.get("description")), "%s: output %s has no description" % (path, name)


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


# --- network and security groups ----------------------------------------------------


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


# --- cache, compute, monitoring -----------------------------------------------------


def test_cache_is_encrypted_in_transit_and_at_rest():
    group = resource("cache", "aws_elasticache_replication_group", "main")
    assert first(group["at_rest_encryption_enabled"]) is True
    assert first(group["transit_encryption_enabled"]) is True
    assert first(group["kms_key_id"]) == "${var.kms_key_arn}"
    assert first(group["auth_token"])
    assert first(group["automatic_failover_enabled"]) == "${var.automatic_failover}"
    assert first(group["multi_az_enabled"]) == "${var.automatic_failover}"


def test_production_alarms_go_to_an_encrypted_sns_topic():
    assert module_call("production", "stack")["alarms_enabled"] is True
    alarm = resource("monitoring", "aws_cloudwatch_metric_alarm", "main")
    assert first(alarm["alarm_actions"]) == ["${aws_sns_topic.alarms.arn}"]
    assert first(resource("monitoring", "aws_sns_topic", "alarms")["kms_master_key_id"]) == "${var.kms_key_arn}"
    with open(os.path.join(TF_DIR, "modules", "monitoring", "main.tf")) as handle:
        text = handle.read()
    for metric in ("CPUUtilization", "FreeStorageSpace", "FreeableMemory", "ReadLatency", "WriteLatency", "DatabaseConnections",
                   "DatabaseMemoryUsagePercentage", "Evictions", "RunningTaskCount"):
        assert '"%s"' % metric in text, metric
    assert '"ReplicaLag"' not in text, "no read replica exists"


# --- encryption at rest everywhere --------------------------------------------------


# --- S3 -----------------------------------------------------------------------------


def test_buckets_block_public_access_version_encrypt_and_require_tls():
    pab = resource("storage", "aws_s3_bucket_public_access_block", "main")
    for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
        assert first(pab[flag]) is True, flag
    versioning = resource("storage", "aws_s3_bucket_versioning", "main")
    assert first(first(versioning["versioning_configuration"])["status"]) == "Enabled"
    sse = first(first(resource("storage", "aws_s3_bucket_server_side_encryption_configuration", "main")["rule"])["apply_server_side_encryption_by_default"])
    # SSE-KMS with the stack's key, except the access-log target (S3 log delivery needs SSE-S3 there);
    # the real plans show each bucket's value (tests/terraform).
    assert '"aws:kms"' in first(sse["sse_algorithm"]) and "var.kms_key_arn" in first(sse["kms_master_key_id"])
    storage = load_dir(os.path.join(TF_DIR, "modules", "storage"))
    policy = [b["bucket"] for b in storage["data"] if "aws_iam_policy_document" in b for b in [b["aws_iam_policy_document"]]][0]
    deny = [s for s in policy["statement"] if first(s["effect"]) == "Deny"]
    assert any(first(first(s["condition"])["variable"]) == "aws:SecureTransport" and first(first(s["condition"])["values"]) == ["false"] for s in deny)
    assert first(resource("storage", "aws_s3_bucket_policy", "main")["policy"])


def test_log_bucket_has_a_retention_lifecycle():
    lifecycle = resource("storage", "aws_s3_bucket_lifecycle_configuration", "main")
    dynamic = first(lifecycle["dynamic"])["rule"]
    assert "local.access_log_target" in first(dynamic["for_each"]) and "trail" in first(dynamic["for_each"])
    content = first(dynamic["content"])
    assert first(content["expiration"]) and first(content["transition"])
    assert len(lifecycle["rule"]) >= 2  # abort incomplete uploads, expire noncurrent versions


# --- names and tags -----------------------------------------------------------------


def test_roots_call_only_the_stack_module_and_repeat_no_outputs():
    # Production adds its disaster recovery (replicated backups in the DR region) beside the stack.
    calls = {"development": ["stack"], "production": ["stack", "dr_backups"]}
    for root in ROOTS:
        data = load_dir(os.path.join(TF_DIR, root))
        assert [name for block in data["module"] for name in block] == calls[root], root
        outputs = {name for block in data.get("output", []) for name in block}
        assert outputs == {"stack", "stack_sensitive"}, root
        for provider in data["provider"]:  # production: also the DR region's (alias dr)
            assert first(first(provider["aws"]["default_tags"])["tags"]) == "${local.tags}", root
    assert "${var.developer_id}" in first(first(load_dir(os.path.join(TF_DIR, "development"))["locals"])["name_prefix"])
    assert "developer_id" not in variables(os.path.join(TF_DIR, "production"))
    assert "Developer" not in first(first(load_dir(os.path.join(TF_DIR, "production"))["locals"])["tags"])


def test_stack_inputs_from_the_inventory_are_validated_once():
    stack = variables(os.path.join(TF_DIR, "modules", "stack"))
    for root in ROOTS:
        for name in variables(os.path.join(TF_DIR, root)):
            if name in ("developer_id", "extra_tags") or name.startswith("dr_"):
                assert variables(os.path.join(TF_DIR, root))[name].get("validation"), (root, name)
                continue
            assert name in stack, "%s passes %s, which the stack module does not take" % (root, name)
            if first(stack[name]["type"]) not in ("${bool}", "bool"):
                assert stack[name].get("validation"), "modules/stack: variable %s has no validation block" % name


def test_every_service_role_trusts_through_the_one_trust_module():
    """Every role's trust policy comes from modules/service_trust (the aws:SourceAccount guard in
    one place); no module writes its own sts:AssumeRole document."""
    roles = 0
    for module in MODULES:
        calls = {}
        for block in load_dir(os.path.join(TF_DIR, "modules", module)).get("module", []):
            for name, body in block.items():
                calls[name] = first(body["source"])
        for _type, name, body in resources(module, "aws_iam_role"):
            roles += 1
            ref = re.fullmatch(r"\$\{module\.(\w+)\.json\}", first(body["assume_role_policy"]))
            assert ref and calls.get(ref.group(1)) == "../service_trust", (module, name, body["assume_role_policy"])
        for path in glob.glob(os.path.join(TF_DIR, "modules", module, "*.tf")):
            if module != "service_trust":
                assert "sts:AssumeRole" not in open(path).read(), path
    assert roles >= 7


def test_every_taggable_resource_sets_tags():
    for module in MODULES:
        for type_, name, body in resources(module):
            if type_ not in UNTAGGABLE:
                assert "tags" in body, "%s: %s.%s has no tags" % (module, type_, name)


# --- checkov ------------------------------------------------------------------------


# Waived for the development root only (production is checked by them), never in the
# shared modules: development is the cost-optimised, disposable copy.
DEVELOPMENT_ONLY_WAIVERS = {
    "CKV_AWS_157": "RDS Multi-AZ: a single-AZ database in the cost-optimised development stack",
    "CKV_AWS_293": "RDS deletion protection: off so a developer can tear the stack down",
    "CKV2_AWS_50": "Redis automatic failover: the development cache has one node",
}


def run_checkov(directories):
    """Run checkov on each directory (in parallel) and return {directory: report}.

    One process per root: checkov 3.1.47 given several -d options evaluates the shared
    modules with the first root's variable values again for the second root, so a
    production-only finding could hide (observed while writing this test).
    """
    procs = {}
    for directory in directories:
        argv = [CHECKOV, "-d", directory, "--framework", "terraform", "--compact", "-o", "json", "--skip-download"]
        waived = DEVELOPMENT_ONLY_WAIVERS if os.path.basename(directory) == "development" else {}
        if waived:
            argv += ["--skip-check", ",".join(sorted(waived))]
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


# checkov 3.1.47 does not connect the buckets' for_each sub-resources (versioning,
# encryption, public access block, lifecycle) to their buckets in the production root
# (the same modules pass in development; observed, not understood), so it reports these four
# checks as failed on every production bucket. They are not waived in the code: the real
# plans assert each property on both roots (tests/terraform/test_real_terraform.py,
# test_every_bucket_blocks_public_access_and_is_versioned,
# test_customer_managed_key_encrypts_everything_at_rest, test_every_bucket_has_lifecycle_rules).
CHECKOV_GRAPH_GAPS = {"production": {"CKV2_AWS_6", "CKV_AWS_21", "CKV_AWS_145", "CKV2_AWS_61"}}


@pytest.fixture(scope="module")
def checkov_reports():
    return run_checkov([os.path.join(TF_DIR, root) for root in ROOTS])


@pytest.mark.parametrize("root", ROOTS)
def test_checkov_passes_on_root(checkov_reports, root):
    report = checkov_reports[os.path.join(TF_DIR, root)]
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 100, "checkov evaluated too little: %s" % report["summary"]
    gaps = CHECKOV_GRAPH_GAPS.get(root, set())
    failed = [check for check in failed_checks(report) if not (check[0] in gaps and "aws_s3_bucket.main[" in check[1])]
    assert failed == [], json.dumps(failed, indent=1)


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
