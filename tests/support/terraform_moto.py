"""moto for real Terraform runs: the ONE place where moto's gaps are worked around.

The real hashicorp/aws provider talks to moto in server mode on 127.0.0.1 exactly as it
talks to AWS (AWS_ENDPOINT_URL). Where moto answers differently from AWS, the difference
is bridged here, in the emulator, never in files/terraform. Each gap, and why:

1. AWS-managed IAM policies (AmazonECSTaskExecutionRolePolicy,
   AmazonRDSEnhancedMonitoringRole, AmazonSSMManagedInstanceCore) do not exist in moto
   unless it loads them: MOTO_IAM_LOAD_MANAGED_POLICIES=true (attaching them fails
   otherwise with NoSuchEntity).
2. ElastiCache replication groups have no member cache clusters in moto
   (DescribeCacheClusters of "<group>-001" answers CacheClusterNotFound, and the provider
   reads every member after CreateReplicationGroup): the members are created with the
   group here.
3. A deleted ElastiCache replication group stays in moto with status "deleting" forever,
   so the provider would wait for its disappearance until its 40-minute timeout: the
   group and its members are removed at once here, as AWS does eventually.
4. The members of gap 2 carry the group's encryption settings (the provider reads
   at_rest/transit encryption from a member; without them every plan replaces the group).
5. Security group rules that reference a security group lose their description in
   DescribeSecurityGroupRules (moto keeps it in the group pair, not the rule).
6. ECS services do not keep availabilityZoneRebalancing.
7. RDS instances do not keep the Performance Insights settings.
8. DescribeDBParameters returns the user parameters without Source=user, so the
   provider finds none of them.
9. Every RDS instance gets the same DbiResourceId, and the provider finds an instance by
   it: with two instances in one moto (development and production side by side) neither
   is found. Each instance gets its own id here.
10. ElastiCache DeleteCacheSubnetGroup is not implemented (a destroy would retry it until
    the provider gives up): implemented here.
11. Application Auto Scaling has no tagging API (ListTagsForResource, TagResource,
    UntagResource), which the provider calls for every scalable target: implemented here,
    with the tags given to RegisterScalableTarget.
12. moto's server answers requests in threads, but its backends are not thread-safe: with
    two Terraform runs side by side (development and production share the DynamoDB lock
    table) a state lock failed as "held" by the run that was taking it. Requests are
    served one at a time here (the provider's waiters, not moto, set the pace).
13. ElastiCache replication groups get one member whatever NumCacheClusters says, and
    the members list no security groups (the provider reads both back from them).
14. A network interface without a public address still answers an (empty) Association,
    which the provider reads as "has a public address": every plan would replace the
    bastion (associate_public_ip_address = false). No address, no Association here.
15. Security groups given in the primary network interface of RunInstances are not the
    instance's security groups (the provider reads vpc_security_group_ids from those).
16. The RDS-managed master secret always holds the user "admin" and one fixed password:
    here it holds the instance's master user name and a random password, as RDS's does.
17. RDS cross-region replication of automated backups (production DR, modules/dr_backups)
    is not implemented: StartDBInstanceAutomatedBackupsReplication and
    StopDBInstanceAutomatedBackupsReplication are missing, and
    DescribeDBInstanceAutomatedBackups ignores DBInstanceAutomatedBackupsArn. Implemented
    here in the DR region's backend: starting needs the source instance to exist in its own
    region (and a different one), answers a replicated backup with status "replicating",
    the DR key and the retention asked for; describing by ARN finds it (or answers
    DBInstanceAutomatedBackupNotFound); stopping removes it. No backup data is copied (moto
    has none): what the restore playbook does with the ARN is its own test's business.
18. PutBucketLogging checks that the target bucket's policy lets logging.s3.amazonaws.com
    write, but fails with an internal error (AttributeError) on the first statement whose
    Principal is "*" (every TLS-only deny statement has one), so the provider retries until
    it gives up. The same check here, reading "*", a string or a list where AWS allows them.

Gaps 4-8 would otherwise show as changes in every plan after an apply (the provider reads
back something other than what it wrote); with them bridged, a second plan is empty.

Run as a script, this module patches moto and then serves it like moto_server does.
"""

import os
import subprocess
import sys
import uuid

from support import moto_server

GAPS = (
    "AWS-managed IAM policies are loaded (MOTO_IAM_LOAD_MANAGED_POLICIES=true)",
    "ElastiCache replication groups get their member cache clusters",
    "a deleted ElastiCache replication group disappears instead of staying 'deleting'",
    "ElastiCache member clusters carry the group's encryption settings",
    "security group rules keep the description of a referenced-group rule",
    "ECS services keep availabilityZoneRebalancing",
    "RDS instances keep their Performance Insights settings",
    "DescribeDBParameters marks user parameters Source=user",
    "every RDS instance gets its own DbiResourceId",
    "ElastiCache DeleteCacheSubnetGroup is implemented",
    "Application Auto Scaling keeps and lists tags",
    "requests are served one at a time (moto's backends are not thread-safe)",
    "ElastiCache replication groups get NumCacheClusters members, with their security groups",
    "a network interface without a public address has no Association",
    "an instance's security groups include those of its primary network interface",
    "the RDS-managed master secret holds the instance's master user and a random password",
    "RDS cross-region replication of automated backups is implemented (start, describe by ARN, stop)",
    "PutBucketLogging's target-policy check reads statements whose Principal is \"*\"",
)


def _patch_moto():
    from moto.elasticache.models import ElastiCacheBackend

    create_group = ElastiCacheBackend.create_replication_group
    delete_group = ElastiCacheBackend.delete_replication_group

    def create_replication_group(self, *args, **kwargs):  # gaps 2 and 13
        group = create_group(self, *args, **kwargs)
        wanted = kwargs.get("num_cache_clusters") or 1
        for number in range(len(group.member_clusters) + 1, wanted + 1):
            group.member_clusters.append("%s-%03d" % (group.replication_group_id, number))
        azs = kwargs.get("preferred_cache_cluster_azs") or []
        for index, cluster_id in enumerate(group.member_clusters):
            if cluster_id in self.cache_clusters:
                continue
            self.create_cache_cluster(
                cache_cluster_id=cluster_id, replication_group_id=group.replication_group_id, az_mode=None,
                preferred_availability_zone=azs[index] if index < len(azs) else None, num_cache_nodes=1,
                cache_node_type=kwargs.get("cache_node_type"), engine=kwargs.get("engine") or "redis",
                engine_version=kwargs.get("engine_version"), cache_parameter_group_name=kwargs.get("cache_parameter_group_name"),
                cache_subnet_group_name=kwargs.get("cache_subnet_group_name"),
                transit_encryption_enabled=kwargs.get("transit_encryption_enabled"), network_type=None, ip_discovery=None,
                snapshot_name=None, preferred_maintenance_window=kwargs.get("preferred_maintenance_window"),
                port=kwargs.get("port"), notification_topic_arn=None,
                auto_minor_version_upgrade=kwargs.get("auto_minor_version_upgrade"),
                snapshot_retention_limit=kwargs.get("snapshot_retention_limit"), snapshot_window=kwargs.get("snapshot_window"),
                auth_token=None, outpost_mode=None, preferred_outpost_arn=None, preferred_availability_zones=None,
                cache_security_group_names=None, security_group_ids=kwargs.get("security_group_ids"), tags=None,
                snapshot_arns=None, preferred_outpost_arns=None, log_delivery_configurations=[],
                cache_node_ids_to_remove=None, cache_node_ids_to_reboot=None,
            )
            self.cache_clusters[cluster_id].security_groups = [
                {"SecurityGroupId": group_id, "Status": "active"} for group_id in kwargs.get("security_group_ids") or []
            ]
        return group

    def delete_replication_group(self, replication_group_id, retain_primary_cluster):  # gap 3
        group = delete_group(self, replication_group_id, retain_primary_cluster)
        self.replication_groups.pop(replication_group_id, None)
        for cluster_id in [cid for cid, cluster in self.cache_clusters.items() if getattr(cluster, "replication_group_id", None) == replication_group_id]:
            self.cache_clusters.pop(cluster_id)
        return group

    ElastiCacheBackend.create_replication_group = create_replication_group
    ElastiCacheBackend.delete_replication_group = delete_replication_group

    from moto.ec2.models.elastic_network_interfaces import NetworkInterface

    association = NetworkInterface.association

    def association_if_any(self):  # gap 14
        return association.fget(self) or None

    NetworkInterface.association = property(association_if_any)

    from moto.ec2.models.instances import InstanceBackend

    run_instances = InstanceBackend.run_instances

    def run_instances_with_nic_groups(self, *args, **kwargs):  # gap 15
        reservation = run_instances(self, *args, **kwargs)
        for instance in reservation.instances:
            if not instance.security_groups and instance.nics:
                instance.security_groups = sorted(instance.nics[0]._group_set, key=lambda group: group.id)
        return reservation

    InstanceBackend.run_instances = run_instances_with_nic_groups

    import json

    from moto.rds.models import MasterUserSecret

    def secret_string(self):  # gap 16
        return json.dumps({"username": self.resource.master_username, "password": uuid.uuid4().hex})

    MasterUserSecret._generate_secret_string = secret_string
    _patch_round_trips()
    _patch_backup_replication()
    _patch_bucket_logging_check()


def _patch_round_trips():
    """Gaps 4-8: what the provider writes, moto must read back."""
    from moto.ec2.models.security_groups import SecurityGroupRule
    from moto.ecs.responses import EC2ContainerServiceResponse
    from moto.elasticache.models import ElastiCacheBackend
    from moto.rds.models import DBInstance
    from moto.rds.responses import RDSResponse

    create_group = ElastiCacheBackend.create_replication_group

    def create_replication_group(self, *args, **kwargs):  # gap 4
        group = create_group(self, *args, **kwargs)
        for cluster_id in group.member_clusters:
            cluster = self.cache_clusters.get(cluster_id)
            if cluster is not None:
                cluster.at_rest_encryption_enabled = group.at_rest_encryption_enabled
                cluster.transit_encryption_enabled = group.transit_encryption_enabled
                cluster.auth_token_enabled = group.auth_token_enabled
        return group

    ElastiCacheBackend.create_replication_group = create_replication_group

    def rule_description(self):  # gap 5
        return self.ip_range.get("Description") or (self.source_group or {}).get("Description")

    SecurityGroupRule.description = property(rule_description)

    ecs_create_service = EC2ContainerServiceResponse.create_service

    def create_service(self):  # gap 6
        result = ecs_create_service(self)
        rebalancing = self._get_param("availabilityZoneRebalancing")
        if rebalancing:
            cluster = self._get_param("cluster", "default")
            service = self.ecs_backend.describe_services(cluster, [self._get_param("serviceName")])[0][0]
            service.availability_zone_rebalancing = rebalancing
        return result

    EC2ContainerServiceResponse.create_service = create_service

    db_init = DBInstance.__init__

    def db_instance_init(self, *args, **kwargs):  # gaps 7 and 9
        db_init(self, *args, **kwargs)
        self.dbi_resource_id = "db-" + uuid.uuid4().hex[:26].upper()
        self.performance_insights_enabled = bool(kwargs.get("enable_performance_insights"))
        self.performance_insights_kms_key_id = kwargs.get("performance_insights_kms_key_id")
        self.performance_insights_retention_period = kwargs.get("performance_insights_retention_period")

    DBInstance.__init__ = db_instance_init

    describe_parameters = RDSResponse.describe_db_parameters

    def describe_db_parameters(self):  # gap 8
        result = describe_parameters(self)
        group = self.backend.describe_db_parameter_groups({"db_parameter_group_name": self.params.get("DBParameterGroupName")})[0]
        for parameter in group.parameters.values():
            parameter.setdefault("Source", "user")
        return result

    RDSResponse.describe_db_parameters = describe_db_parameters
    _patch_missing_actions()


def _patch_missing_actions():
    """Gaps 10 and 11: actions moto does not implement."""
    import json

    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
    from moto.core.responses import EmptyResult
    from moto.elasticache.responses import ElastiCacheResponse

    def delete_cache_subnet_group(self):  # gap 10
        self.elasticache_backend.cache_subnet_groups.pop(self._get_param("CacheSubnetGroupName"), None)
        return EmptyResult()

    ElastiCacheResponse.delete_cache_subnet_group = delete_cache_subnet_group

    tags_by_arn = {}
    register = ApplicationAutoScalingResponse.register_scalable_target

    def register_scalable_target(self):  # gap 11
        body = register(self)
        if self._get_param("Tags"):
            tags_by_arn.setdefault(json.loads(body)["ScalableTargetARN"], {}).update(self._get_param("Tags"))
        return body

    def list_tags_for_resource(self):
        return json.dumps({"Tags": tags_by_arn.get(self._get_param("ResourceARN"), {})})

    def tag_resource(self):
        tags_by_arn.setdefault(self._get_param("ResourceARN"), {}).update(self._get_param("Tags") or {})
        return json.dumps({})

    def untag_resource(self):
        for key in self._get_param("TagKeys") or []:
            tags_by_arn.get(self._get_param("ResourceARN"), {}).pop(key, None)
        return json.dumps({})

    ApplicationAutoScalingResponse.register_scalable_target = register_scalable_target
    ApplicationAutoScalingResponse.list_tags_for_resource = list_tags_for_resource
    ApplicationAutoScalingResponse.tag_resource = tag_resource
    ApplicationAutoScalingResponse.untag_resource = untag_resource


def _patch_backup_replication():
    """Gap 17: cross-region replication of automated backups, in the DR region's backend."""
    from moto.core.responses import ActionResult
    from moto.rds.exceptions import DBInstanceNotFoundError, RDSClientError
    from moto.rds.models import rds_backends
    from moto.rds.responses import RDSResponse

    replicated = {}  # (account, DR region) -> {replicated-backups ARN: DBInstanceAutomatedBackup}

    def start_replication(self):
        source_arn = self._get_param("SourceDBInstanceArn")
        parts = source_arn.split(":")
        if len(parts) < 7 or parts[5] != "db":
            raise RDSClientError("InvalidParameterValue", "SourceDBInstanceArn %s is not a DB instance ARN." % source_arn)
        partition, source_region, account, identifier = parts[1], parts[3], parts[4], parts[6]
        if source_region == self.region:
            raise RDSClientError("InvalidParameterCombination", "The source instance is in the region the backups would be replicated to.")
        source = rds_backends[account][source_region].databases.get(identifier)
        if source is None:
            raise DBInstanceNotFoundError(identifier)
        resource_id = source.dbi_resource_id
        arn = "arn:%s:rds:%s:%s:auto-backup:ab-%s" % (partition, self.region, account, uuid.uuid4().hex[:26])
        backup = {
            "DBInstanceArn": source_arn,
            "DbiResourceId": resource_id,
            "Region": source_region,
            "DBInstanceIdentifier": identifier,
            "Status": "replicating",
            "Port": source.port,
            "MasterUsername": source.master_username,
            "Engine": source.engine,
            "EngineVersion": source.engine_version,
            "AllocatedStorage": source.allocated_storage,
            "StorageType": source.storage_type,
            "Encrypted": True,
            "KmsKeyId": self._get_param("KmsKeyId"),
            "IAMDatabaseAuthenticationEnabled": bool(source.enable_iam_database_authentication),
            "BackupRetentionPeriod": int(self._get_param("BackupRetentionPeriod") or 7),
            "DBInstanceAutomatedBackupsArn": arn,
            "BackupTarget": "region",
        }
        replicated.setdefault((self.current_account, self.region), {})[arn] = backup
        return ActionResult({"DBInstanceAutomatedBackup": backup})

    def stop_replication(self):
        source_arn = self._get_param("SourceDBInstanceArn")
        here = replicated.get((self.current_account, self.region), {})
        for arn, backup in list(here.items()):
            if backup["DBInstanceArn"] == source_arn:
                del here[arn]
                return ActionResult({"DBInstanceAutomatedBackup": dict(backup, Status="retained")})
        raise RDSClientError("InvalidDBInstanceState", "The automated backups of %s are not replicating to the current region." % source_arn)

    describe = RDSResponse.describe_db_instance_automated_backups

    def describe_automated_backups(self):
        arn = self._get_param("DBInstanceAutomatedBackupsArn")
        if not arn:
            return describe(self)
        backup = replicated.get((self.current_account, self.region), {}).get(arn)
        if backup is None:
            raise RDSClientError("DBInstanceAutomatedBackupNotFound", "Automated backups %s not found." % arn)
        return ActionResult({"DBInstanceAutomatedBackups": [backup]})

    RDSResponse.start_db_instance_automated_backups_replication = start_replication
    RDSResponse.stop_db_instance_automated_backups_replication = stop_replication
    RDSResponse.describe_db_instance_automated_backups = describe_automated_backups


def _patch_bucket_logging_check():
    """Gap 18."""
    import json

    from moto.s3.models import LOGGING_SERVICE_PRINCIPAL, FakeBucket

    def as_list(value):
        return [value] if isinstance(value, str) else list(value or [])

    def log_permissions_enabled_policy(target_bucket, target_prefix):
        if not target_bucket.policy:
            return False
        arn = "arn:%s:s3:::%s" % (target_bucket.partition, target_bucket.name)
        writable = {arn, arn + "/*", "%s/%s*" % (arn, target_prefix or "")}
        for statement in json.loads(target_bucket.policy.decode())["Statement"]:
            principal = statement.get("Principal")
            services = as_list(principal.get("Service")) if isinstance(principal, dict) else []
            if (
                LOGGING_SERVICE_PRINCIPAL in services
                and statement.get("Effect") == "Allow"
                and "s3:PutObject" in as_list(statement.get("Action"))
                and writable & set(as_list(statement.get("Resource")))
            ):
                return True
        return False

    FakeBucket._log_permissions_enabled_policy = staticmethod(log_permissions_enabled_policy)


def start(log_path, timeout=30, detach=False):
    """Start the patched moto on a free loopback port; returns (process, url)."""
    port = moto_server.free_port()
    env = dict(os.environ, MOTO_IAM_LOAD_MANAGED_POLICIES="true")  # gap 1
    support_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = support_dir + os.pathsep + env.get("PYTHONPATH", "")
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "support.terraform_moto", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=detach
        )
    return proc, moto_server.wait_until_answering(proc, port, timeout, log_path, "patched moto")


def _serialise_requests():
    """Gap 12."""
    import threading

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    one_at_a_time = threading.Lock()
    dispatch = DomainDispatcherApplication.__call__

    def call(self, environ, start_response):
        with one_at_a_time:
            return list(dispatch(self, environ, start_response))

    DomainDispatcherApplication.__call__ = call


def main():
    _patch_moto()
    _serialise_requests()
    from moto.server import main as serve

    serve(["-H", "127.0.0.1", "-p", sys.argv[1]])


if __name__ == "__main__":
    main()
