# CloudWatch alarms (database CPU, storage, memory, latency and connections; memory and
# evictions of every Redis node; service CPU and running tasks) publishing to an encrypted
# SNS topic. There is no read replica, so there is no replica-lag alarm.

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
  db_dimensions = { DBInstanceIdentifier = var.db_instance_identifier }
  # One set of cache alarms per node: <group>-001 is the primary, the others replicas.
  # The keys are the node numbers (known when planning); the ids only in the dimensions.
  cache_nodes = { for number in range(1, var.cache_node_count + 1) : format("%03d", number) => format("%s-%03d", var.cache_replication_group_id, number) }

  db_alarms = {
    db-cpu = {
      namespace = "AWS/RDS", metric = "CPUUtilization", statistic = "Average", comparison = "GreaterThanThreshold",
      threshold = 80, dimensions = local.db_dimensions, description = "RDS CPU above 80% for 15 minutes"
    }
    db-free-storage = {
      namespace = "AWS/RDS", metric = "FreeStorageSpace", statistic = "Minimum", comparison = "LessThanThreshold",
      threshold = var.db_free_storage_threshold_bytes, dimensions = local.db_dimensions, description = "RDS free storage low"
    }
    db-freeable-memory = {
      namespace = "AWS/RDS", metric = "FreeableMemory", statistic = "Minimum", comparison = "LessThanThreshold",
      threshold = var.db_freeable_memory_threshold_bytes, dimensions = local.db_dimensions, description = "RDS freeable memory low"
    }
    db-read-latency = {
      namespace = "AWS/RDS", metric = "ReadLatency", statistic = "Average", comparison = "GreaterThanThreshold",
      threshold = var.db_latency_threshold_seconds, dimensions = local.db_dimensions, description = "RDS read latency high"
    }
    db-write-latency = {
      namespace = "AWS/RDS", metric = "WriteLatency", statistic = "Average", comparison = "GreaterThanThreshold",
      threshold = var.db_latency_threshold_seconds, dimensions = local.db_dimensions, description = "RDS write latency high"
    }
    db-connections = {
      namespace = "AWS/RDS", metric = "DatabaseConnections", statistic = "Maximum", comparison = "GreaterThanThreshold",
      threshold = var.db_max_connections_threshold, dimensions = local.db_dimensions, description = "RDS connection count high"
    }
  }

  cache_alarms = merge([
    for number, node in local.cache_nodes : {
      "cache-memory-${number}" = {
        namespace = "AWS/ElastiCache", metric = "DatabaseMemoryUsagePercentage", statistic = "Maximum", comparison = "GreaterThanThreshold",
        threshold = 80, dimensions = { CacheClusterId = node }, description = "Redis memory above 80% on ${node}"
      }
      "cache-evictions-${number}" = {
        namespace = "AWS/ElastiCache", metric = "Evictions", statistic = "Sum", comparison = "GreaterThanThreshold",
        threshold = 0, dimensions = { CacheClusterId = node }, description = "Redis is evicting keys on ${node}"
      }
    }
  ]...)

  service_alarms = {
    service-cpu = {
      namespace   = "AWS/ECS", metric = "CPUUtilization", statistic = "Average", comparison = "GreaterThanThreshold",
      threshold   = 85, dimensions = { ClusterName = var.ecs_cluster_name, ServiceName = var.ecs_service_name },
      description = "ECS service CPU above 85%"
    }
    # Container Insights (enabled on the cluster) counts the running tasks.
    service-running-tasks = {
      namespace   = "ECS/ContainerInsights", metric = "RunningTaskCount", statistic = "Minimum", comparison = "LessThanThreshold",
      threshold   = var.ecs_min_running_tasks, dimensions = { ClusterName = var.ecs_cluster_name, ServiceName = var.ecs_service_name },
      description = "Fewer ECS tasks running than the service's minimum"
    }
  }

  alarms = merge(local.db_alarms, local.cache_alarms, local.service_alarms)
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
