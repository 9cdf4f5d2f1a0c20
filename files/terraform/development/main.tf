# Development: the cost-optimised environment, one copy per developer (workspace per developer_id).
#
# Shared modules under ../modules; every name carries developer_id, every resource the
# standard tags (provider default_tags plus the modules' own tags).

locals {
  environment = "development"
  name_prefix = "sensa-dev-${var.developer_id}"

  tags = merge(var.extra_tags, {
    Project     = "sensa"
    Environment = local.environment
    Developer   = var.developer_id
    ManagedBy   = "terraform"
  })
}

module "keys" {
  source      = "../modules/keys"
  name_prefix = local.name_prefix
  tags        = local.tags
}

module "network" {
  source             = "../modules/network"
  name_prefix        = local.name_prefix
  vpc_cidr           = var.vpc_cidr
  availability_zones = var.availability_zones
  nat_gateway_per_az = false
  kms_key_arn        = module.keys.key_arn
  tags               = local.tags
}

module "database" {
  source                    = "../modules/database"
  name_prefix               = local.name_prefix
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.database_subnet_ids
  client_security_group_ids = [module.network.service_security_group_id]
  admin_cidr_blocks         = var.admin_cidr_blocks
  kms_key_arn               = module.keys.key_arn

  instance_class                      = var.db_instance_class
  allocated_storage                   = var.db_allocated_storage
  max_allocated_storage               = var.db_max_allocated_storage
  multi_az                            = false
  deletion_protection                 = false
  skip_final_snapshot                 = true
  backup_retention_days               = var.db_backup_retention_days
  performance_insights_retention_days = 7
  monitoring_interval                 = 60
  log_min_duration_statement_ms       = var.db_log_min_duration_statement_ms
  application_secret_name             = var.application_secret_name
  tags                                = local.tags
}

module "cache" {
  source                    = "../modules/cache"
  name_prefix               = local.name_prefix
  vpc_id                    = module.network.vpc_id
  subnet_ids                = module.network.private_subnet_ids
  client_security_group_ids = [module.network.service_security_group_id]
  kms_key_arn               = module.keys.key_arn
  node_type                 = var.cache_node_type
  node_count                = 1
  automatic_failover        = false
  snapshot_retention_days   = 1
  tags                      = local.tags
}

module "storage" {
  source        = "../modules/storage"
  name_prefix   = local.name_prefix
  kms_key_arn   = module.keys.key_arn
  force_destroy = true
  tags          = local.tags
}

module "compute" {
  source                     = "../modules/compute"
  name_prefix                = local.name_prefix
  subnet_ids                 = module.network.private_subnet_ids
  service_security_group_id  = module.network.service_security_group_id
  database_security_group_id = module.database.security_group_id
  cache_security_group_id    = module.cache.security_group_id
  kms_key_arn                = module.keys.key_arn
  container_image            = var.container_image
  task_cpu                   = var.task_cpu
  task_memory                = var.task_memory
  desired_count              = var.service_desired_count
  autoscaling_enabled        = false
  autoscaling_max_count      = 1
  application_secret_arn     = module.database.application_secret_arn
  cache_auth_secret_arn      = module.cache.auth_token_secret_arn
  bucket_arns                = [module.storage.bucket_arns["uploads"], module.storage.bucket_arns["artifacts"]]
  tags                       = local.tags

  environment_variables = {
    SENSA_ENVIRONMENT = local.environment
    UPLOADS_BUCKET    = module.storage.bucket_names["uploads"]
    ARTIFACTS_BUCKET  = module.storage.bucket_names["artifacts"]
    DATABASE_HOST     = module.database.address
    DATABASE_PORT     = tostring(module.database.port)
    DATABASE_NAME     = module.database.database_name
    REDIS_HOST        = module.cache.primary_endpoint_address
  }
}

module "monitoring" {
  source                     = "../modules/monitoring"
  name_prefix                = local.name_prefix
  kms_key_arn                = module.keys.key_arn
  alarms_enabled             = false
  alarm_emails               = var.alarm_emails
  db_instance_identifier     = module.database.instance_identifier
  cache_replication_group_id = module.cache.replication_group_id
  ecs_cluster_name           = module.compute.cluster_name
  ecs_service_name           = module.compute.service_name
  tags                       = local.tags
}
