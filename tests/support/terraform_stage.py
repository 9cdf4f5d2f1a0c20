"""Helpers of the real-Terraform stage (tests/terraform): moto clients, the backend,
the inventories' variables and one planned root module."""

import json
import os

import boto3
import yaml

from support import moto_server
from support.collection import REPO_ROOT
from support.terraform_cli import Terraform

STATE_BUCKET = "sensa-terraform-state"
LOCK_TABLE = "sensa-terraform-locks"
REGION = "eu-west-1"
DEVELOPER = "tfcheck"


def report(line):
    """A line for the stage summary: scripts/test.sh sets SENSA_TF_REPORT and prints the file."""
    path = os.environ.get("SENSA_TF_REPORT")
    if path:
        with open(path, "a") as handle:
            handle.write(line.rstrip() + "\n")


def boto(service, url):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=moto_server.AWS_TEST_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=moto_server.AWS_TEST_ENV["AWS_SECRET_ACCESS_KEY"],
    )


def create_backend(url):
    """The team's remote state: an S3 bucket and the DynamoDB lock table, in moto."""
    boto("s3", url).create_bucket(Bucket=STATE_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    boto("dynamodb", url).create_table(
        TableName=LOCK_TABLE,
        KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def inventory_variables(environment, developer=DEVELOPER):
    """The root-module variables roles/terraform_stack passes, read from the real inventory."""
    inventory = {"development": "dev", "production": "prod"}[environment]
    with open(os.path.join(REPO_ROOT, "inventories", inventory, "group_vars", "sensa_terraform.yml")) as handle:
        group_vars = yaml.safe_load(handle)
    variables = dict(group_vars["terraform_stack_variables"])
    variables["aws_region"] = REGION
    variables["application_secret_name"] = "sensa/%s/%s/app-db" % (environment, developer) if environment == "development" else "sensa/production/app-db"
    if environment == "development":
        variables["developer_id"] = developer
    return variables, group_vars["terraform_stack_backend_config"]


class Root:
    """One environment: its Terraform, its variables file and (once made) its plan."""

    def __init__(self, tools, moto_url, base, environment):
        self.environment = environment
        self.base = base
        variables, backend = inventory_variables(environment)
        self.var_file = str(base / "variables.tfvars.json")
        with open(self.var_file, "w") as handle:
            json.dump(variables, handle)
        backend = dict(backend, use_path_style="true")  # moto on 127.0.0.1 has no bucket host names
        backend = {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in backend.items()}
        workspace = DEVELOPER if environment == "development" else "main"
        self.tf = Terraform(tools["binary"], tools["cli_config"], environment, str(base / "data"), moto_url, workspace=workspace)
        self.tf.init(backend)
        self.plan_file = str(base / "plan.tfplan")
        self.plan_exit = self.tf.plan(self.var_file, out=self.plan_file).returncode
        self.plan = self.tf.show_json(self.plan_file)
        os.remove(self.plan_file)  # it holds the planned values, secrets included
        planned = [rc for rc in self.plan["resource_changes"] if rc["mode"] == "managed"]
        report("%s: plan %d resources in %.0f s" % (environment, len(planned), self.tf.timings["plan"][0]))


def name_tag(resource):
    return {t["Key"]: t["Value"] for t in resource.get("Tags", [])}.get("Name")


def leftovers(url, prefix, app_secret_prefix="sensa/development/%s/" % DEVELOPER):
    """Everything in moto whose name carries the prefix (gone or scheduled for deletion counts as gone)."""
    found = {}

    def note(kind, names):
        names = [n for n in names if n and prefix in n]
        if names:
            found[kind] = names

    ec2 = boto("ec2", url)
    note("vpcs", [name_tag(v) for v in ec2.describe_vpcs()["Vpcs"]])
    note("subnets", [name_tag(v) for v in ec2.describe_subnets()["Subnets"]])
    note("security groups", [g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]])
    live_nat = [g for g in ec2.describe_nat_gateways()["NatGateways"] if g["State"] not in ("deleted", "deleting")]
    note("nat gateways", [name_tag(g) for g in live_nat])
    note("addresses", [name_tag(a) for a in ec2.describe_addresses()["Addresses"]])
    instances = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"] if i["State"]["Name"] != "terminated"]
    note("instances", [name_tag(i) for i in instances])
    rds = boto("rds", url)
    note("db instances", [d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]])
    note("db parameter groups", [g["DBParameterGroupName"] for g in rds.describe_db_parameter_groups()["DBParameterGroups"]])
    note("db subnet groups", [g["DBSubnetGroupName"] for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]])
    cache = boto("elasticache", url)
    note("replication groups", [g["ReplicationGroupId"] for g in cache.describe_replication_groups()["ReplicationGroups"]])
    note("cache clusters", [c["CacheClusterId"] for c in cache.describe_cache_clusters()["CacheClusters"]])
    note("buckets", [b["Name"] for b in boto("s3", url).list_buckets()["Buckets"]])
    # The application secret is named by the inventory (sensa/development/<developer>/app-db).
    secrets = [s["Name"] for s in boto("secretsmanager", url).list_secrets()["SecretList"]]
    note("secrets", [n if n.startswith(prefix) else prefix + ":" + n for n in secrets if n.startswith(prefix) or n.startswith(app_secret_prefix)])
    note("iam roles", [r["RoleName"] for r in boto("iam", url).list_roles()["Roles"]])
    note("log groups", [g["logGroupName"] for g in boto("logs", url).describe_log_groups()["logGroups"]])
    note("sns topics", [t["TopicArn"] for t in boto("sns", url).list_topics()["Topics"]])
    note("alarms", [a["AlarmName"] for a in boto("cloudwatch", url).describe_alarms()["MetricAlarms"]])
    ecs = boto("ecs", url)
    clusters = ecs.describe_clusters(clusters=ecs.list_clusters()["clusterArns"])["clusters"]
    note("ecs clusters", [c["clusterName"] for c in clusters if c["status"] == "ACTIVE"])
    note("db proxies", [p["DBProxyName"] for p in rds.describe_db_proxies()["DBProxies"]])
    note("trails", [t["Name"] for t in boto("cloudtrail", url).describe_trails()["trailList"]])
    kms = boto("kms", url)
    note("kms aliases", [a["AliasName"] for a in kms.list_aliases()["Aliases"]])
    enabled = [k["KeyId"] for k in kms.list_keys()["Keys"] if kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"] == "Enabled"]
    note("kms keys", [kms.describe_key(KeyId=k)["KeyMetadata"].get("Description", "") for k in enabled])
    return found
