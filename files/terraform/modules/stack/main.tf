# The whole Sensa stack, shared by both environment roots (files/terraform/development
# and files/terraform/production). A root holds only its environment's values: names,
# sizes and the switches between the cost-optimised and the highly available shape.

locals {
  # Known before anything exists: the key and bucket policies admit the trail by its ARN.
  trail_name = var.cloudtrail_enabled ? "${var.name_prefix}-trail" : ""
}

module "keys" {
  source                = "../keys"
  name_prefix           = var.name_prefix
  cloudtrail_trail_name = local.trail_name
  tags                  = var.tags
}

module "network" {
  source             = "../network"
  name_prefix        = var.name_prefix
  vpc_cidr           = var.vpc_cidr
  availability_zones = var.availability_zones
  nat_gateway_per_az = var.nat_gateway_per_az
  kms_key_arn        = module.keys.key_arn
  tags               = var.tags
}

module "database" {
  source                    = "../database"
  name_prefix               = var.name_prefix
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.database_subnet_ids
  client_security_group_ids = [module.network.service_security_group_id]
  bastion_security_group_id = module.bastion.security_group_id
  kms_key_arn               = module.keys.key_arn

  instance_class                      = var.db_instance_class
  allocated_storage                   = var.db_allocated_storage
  max_allocated_storage               = var.db_max_allocated_storage
  multi_az                            = var.db_multi_az
  deletion_protection                 = var.db_deletion_protection
  skip_final_snapshot                 = var.db_skip_final_snapshot
  backup_retention_days               = var.db_backup_retention_days
  performance_insights_retention_days = var.db_performance_insights_retention_days
  monitoring_interval                 = var.db_monitoring_interval
  log_min_duration_statement_ms       = var.db_log_min_duration_statement_ms
  application_secret_name             = var.application_secret_name
  proxy_enabled                       = var.db_proxy_enabled
  tags                                = var.tags
}

# The operators' (and AWX's) only way to the database: an SSM port forward through this
# bastion. No network is admitted anywhere; the database admits the bastion's group.
module "bastion" {
  source                     = "../bastion"
  name_prefix                = var.name_prefix
  vpc_id                     = module.network.vpc_id
  subnet_id                  = module.network.private_subnet_ids[0]
  kms_key_arn                = module.keys.key_arn
  database_security_group_id = module.database.security_group_id
  tags                       = var.tags
}

module "cache" {
  source                    = "../cache"
  name_prefix               = var.name_prefix
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [module.network.service_security_group_id]
  kms_key_arn               = module.keys.key_arn
  node_type                 = var.cache_node_type
  node_count                = var.cache_node_count
  automatic_failover        = var.cache_automatic_failover
  snapshot_retention_days   = var.cache_snapshot_retention_days
  tags                      = var.tags
}

module "storage" {
  source                = "../storage"
  name_prefix           = var.name_prefix
  kms_key_arn           = module.keys.key_arn
  force_destroy         = var.storage_force_destroy
  cloudtrail_trail_name = local.trail_name
  tags                  = var.tags
}

module "audit" {
  source      = "../audit"
  count       = var.cloudtrail_enabled ? 1 : 0
  name_prefix = var.name_prefix
  trail_name  = local.trail_name
  bucket_name = module.storage.trail_bucket_name
  kms_key_arn = module.keys.key_arn
  tags        = var.tags
}

module "compute" {
  source                     = "../compute"
  name_prefix                = var.name_prefix
  subnet_ids                 = module.network.private_subnet_ids
  service_security_group_id  = module.network.service_security_group_id
  database_security_group_id = module.database.application_security_group_id
  cache_security_group_id    = module.cache.security_group_id
  kms_key_arn                = module.keys.key_arn
  container_image            = var.container_image
  task_cpu                   = var.task_cpu
  task_memory                = var.task_memory
  desired_count              = var.service_desired_count
  autoscaling_enabled        = var.service_autoscaling_enabled
  autoscaling_max_count      = var.service_autoscaling_max_count
  application_secret_arn     = module.database.application_secret_arn
  cache_auth_secret_arn      = module.cache.auth_token_secret_arn
  bucket_arns                = [module.storage.bucket_arns["uploads"], module.storage.bucket_arns["artifacts"]]
  tags                       = var.tags

  environment_variables = {
    SENSA_ENVIRONMENT = var.environment
    UPLOADS_BUCKET    = module.storage.bucket_names["uploads"]
    ARTIFACTS_BUCKET  = module.storage.bucket_names["artifacts"]
    DATABASE_HOST     = module.database.application_address
    DATABASE_PORT     = tostring(module.database.port)
    DATABASE_NAME     = module.database.database_name
    REDIS_HOST        = module.cache.primary_endpoint_address
  }
}

module "monitoring" {
  source                     = "../monitoring"
  name_prefix                = var.name_prefix
  kms_key_arn                = module.keys.key_arn
  alarms_enabled             = var.alarms_enabled
  alarm_emails               = var.alarm_emails
  db_instance_identifier     = module.database.instance_identifier
  cache_replication_group_id = module.cache.replication_group_id
  cache_node_count           = var.cache_node_count
  ecs_min_running_tasks      = var.service_desired_count
  ecs_cluster_name           = module.compute.cluster_name
  ecs_service_name           = module.compute.service_name
  tags                       = var.tags
}
