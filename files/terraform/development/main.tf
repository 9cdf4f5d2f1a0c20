# Development: the cost-optimised environment, one copy per developer (workspace per
# developer_id). The stack itself is ../modules/stack; this root holds only the values
# of development: every name carries developer_id, one NAT gateway, a single-AZ database
# without deletion protection or RDS Proxy (the application connects to the instance),
# one cache node, no autoscaling, no alarms, no DR replication, and no CloudTrail trail of
# its own: CloudTrail allows five trails per region and account, so one trail per developer
# would exhaust them (the development account's own trail records its management events).

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

module "stack" {
  source      = "../modules/stack"
  environment = local.environment
  name_prefix = local.name_prefix
  tags        = local.tags

  aws_region              = var.aws_region
  availability_zones      = var.availability_zones
  vpc_cidr                = var.vpc_cidr
  cloudtrail_enabled      = false
  nat_gateway_per_az      = false
  application_secret_name = var.application_secret_name

  db_instance_class                      = var.db_instance_class
  db_allocated_storage                   = var.db_allocated_storage
  db_max_allocated_storage               = var.db_max_allocated_storage
  db_backup_retention_days               = var.db_backup_retention_days
  db_log_min_duration_statement_ms       = var.db_log_min_duration_statement_ms
  db_proxy_enabled                       = false
  db_multi_az                            = false
  db_deletion_protection                 = false
  db_skip_final_snapshot                 = true
  db_performance_insights_retention_days = 7
  db_monitoring_interval                 = 60

  cache_node_type               = var.cache_node_type
  cache_node_count              = 1
  cache_automatic_failover      = false
  cache_snapshot_retention_days = 1

  storage_force_destroy = true

  container_image               = var.container_image
  task_cpu                      = var.task_cpu
  task_memory                   = var.task_memory
  service_desired_count         = var.service_desired_count
  service_autoscaling_enabled   = false
  service_autoscaling_max_count = 1

  alarms_enabled = false
  alarm_emails   = var.alarm_emails
}
