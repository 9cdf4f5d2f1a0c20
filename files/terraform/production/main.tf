# Production: one shared stack with high availability. The stack itself is
# ../modules/stack; this root holds only the values of production: names without a
# developer id (sensa-prod-...), a NAT gateway per AZ, Multi-AZ RDS with deletion
# protection and a final snapshot, RDS Proxy for the application, Redis with replicas and
# failover, autoscaling, alarms, and disaster recovery: the database's automated backups
# replicated into var.dr_region, encrypted there with a key of that region.

locals {
  environment = "production"
  name_prefix = "sensa-prod"

  tags = merge(var.extra_tags, {
    Project     = "sensa"
    Environment = local.environment
    ManagedBy   = "terraform"
  })
}

module "stack" {
  source      = "../modules/stack"
  environment = local.environment
  name_prefix = local.name_prefix
  tags        = local.tags

  aws_region              = var.aws_region
  availability_zones      = var.availability_zones
  vpc_cidr                = var.vpc_cidr
  cloudtrail_enabled      = true
  nat_gateway_per_az      = true
  application_secret_name = var.application_secret_name

  db_instance_class                      = var.db_instance_class
  db_allocated_storage                   = var.db_allocated_storage
  db_max_allocated_storage               = var.db_max_allocated_storage
  db_backup_retention_days               = var.db_backup_retention_days
  db_log_min_duration_statement_ms       = var.db_log_min_duration_statement_ms
  db_proxy_enabled                       = true
  db_multi_az                            = true
  db_deletion_protection                 = true
  db_skip_final_snapshot                 = false
  db_performance_insights_retention_days = 731
  db_monitoring_interval                 = 15

  cache_node_type               = var.cache_node_type
  cache_node_count              = var.cache_node_count
  cache_automatic_failover      = true
  cache_snapshot_retention_days = 7

  storage_force_destroy = false

  container_image               = var.container_image
  task_cpu                      = var.task_cpu
  task_memory                   = var.task_memory
  service_desired_count         = var.service_desired_count
  service_autoscaling_enabled   = true
  service_autoscaling_max_count = var.service_autoscaling_max_count

  alarms_enabled = true
  alarm_emails   = var.alarm_emails
}

# Disaster recovery: point-in-time restore in the DR region from the replicated automated
# backups (playbooks/restore_drill.yml -e restore_region=<dr_region>; docs/operations.md).
# The stack's key is a single-region key, so the DR region gets a key of its own: RDS
# re-encrypts the replicated backups with it.
module "dr_backups" {
  source = "../modules/dr_backups"

  providers = {
    aws    = aws
    aws.dr = aws.dr
  }

  name                   = local.name_prefix
  source_db_instance_arn = module.stack.values.database_instance_arn
  retention_period       = var.dr_backup_retention_days
  tags                   = local.tags
}

check "dr_region_differs_from_the_primary" {
  assert {
    condition     = var.dr_region != var.aws_region
    error_message = "dr_region must differ from aws_region: the replicated backups must survive the loss of the primary region."
  }
}
