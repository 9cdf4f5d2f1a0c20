# CloudWatch alarms (CPU, free storage, connections, replica lag, Redis memory and
# evictions, service CPU) publishing to an encrypted SNS topic.

resource "aws_sns_topic" "alarms" {
  name              = "${var.name_prefix}-alarms"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  for_each  = toset(var.alarm_emails)
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

locals {
  db_dimensions    = { DBInstanceIdentifier = var.db_instance_identifier }
  cache_dimensions = { CacheClusterId = "${var.cache_replication_group_id}-001" }

  alarms = {
    db-cpu = {
      namespace = "AWS/RDS", metric = "CPUUtilization", statistic = "Average", comparison = "GreaterThanThreshold",
      threshold = 80, dimensions = local.db_dimensions, description = "RDS CPU above 80% for 15 minutes"
    }
    db-free-storage = {
      namespace = "AWS/RDS", metric = "FreeStorageSpace", statistic = "Minimum", comparison = "LessThanThreshold",
      threshold = var.db_free_storage_threshold_bytes, dimensions = local.db_dimensions, description = "RDS free storage low"
    }
    db-connections = {
      namespace = "AWS/RDS", metric = "DatabaseConnections", statistic = "Maximum", comparison = "GreaterThanThreshold",
      threshold = var.db_max_connections_threshold, dimensions = local.db_dimensions, description = "RDS connection count high"
    }
    db-replica-lag = {
      namespace = "AWS/RDS", metric = "ReplicaLag", statistic = "Maximum", comparison = "GreaterThanThreshold",
      threshold = var.db_replica_lag_threshold_seconds, dimensions = local.db_dimensions, description = "RDS replica lag high"
    }
    cache-memory = {
      namespace = "AWS/ElastiCache", metric = "DatabaseMemoryUsagePercentage", statistic = "Maximum", comparison = "GreaterThanThreshold",
      threshold = 80, dimensions = local.cache_dimensions, description = "Redis memory above 80%"
    }
    cache-evictions = {
      namespace = "AWS/ElastiCache", metric = "Evictions", statistic = "Sum", comparison = "GreaterThanThreshold",
      threshold = 0, dimensions = local.cache_dimensions, description = "Redis is evicting keys"
    }
    service-cpu = {
      namespace   = "AWS/ECS", metric = "CPUUtilization", statistic = "Average", comparison = "GreaterThanThreshold",
      threshold   = 85, dimensions = { ClusterName = var.ecs_cluster_name, ServiceName = var.ecs_service_name },
      description = "ECS service CPU above 85%"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "main" {
  for_each            = var.alarms_enabled ? local.alarms : {}
  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  statistic           = each.value.statistic
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  dimensions          = each.value.dimensions
  period              = 300
  evaluation_periods  = 3
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = var.tags
}
