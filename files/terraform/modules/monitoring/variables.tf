variable "name_prefix" {
  description = "Prefix of every resource name: sensa-<env>-<developer_id>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name_prefix))
    error_message = "name_prefix must be 3-41 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "kms_key_arn" {
  description = "KMS key encrypting the SNS topic."
  type        = string
}

variable "alarms_enabled" {
  description = "Create the CloudWatch alarms (production); the SNS topic always exists."
  type        = bool
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alarm topic (each confirms by mail)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for address in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", address))])
    error_message = "alarm_emails must be e-mail addresses."
  }
}

variable "db_instance_identifier" {
  description = "RDS instance to watch."
  type        = string
}

variable "db_free_storage_threshold_bytes" {
  description = "Alarm when free storage falls below this many bytes."
  type        = number
  default     = 10737418240

  validation {
    condition     = var.db_free_storage_threshold_bytes > 0
    error_message = "db_free_storage_threshold_bytes must be positive."
  }
}

variable "db_max_connections_threshold" {
  description = "Alarm when DatabaseConnections exceeds this count."
  type        = number
  default     = 400

  validation {
    condition     = var.db_max_connections_threshold > 0
    error_message = "db_max_connections_threshold must be positive."
  }
}

variable "db_freeable_memory_threshold_bytes" {
  description = "Alarm when the database's freeable memory falls below this many bytes."
  type        = number
  default     = 268435456

  validation {
    condition     = var.db_freeable_memory_threshold_bytes > 0
    error_message = "db_freeable_memory_threshold_bytes must be positive."
  }
}

variable "db_latency_threshold_seconds" {
  description = "Alarm when the database's average read or write latency exceeds this many seconds."
  type        = number
  default     = 0.05

  validation {
    condition     = var.db_latency_threshold_seconds > 0
    error_message = "db_latency_threshold_seconds must be positive."
  }
}

variable "cache_node_count" {
  description = "Nodes of the Redis replication group (each gets its own alarms)."
  type        = number
  default     = 1
}

variable "ecs_min_running_tasks" {
  description = "Alarm when fewer application tasks than this are running."
  type        = number
  default     = 1
}

variable "cache_replication_group_id" {
  description = "ElastiCache replication group to watch."
  type        = string
}

variable "ecs_cluster_name" {
  description = "ECS cluster of the service to watch."
  type        = string
}

variable "ecs_service_name" {
  description = "ECS service to watch."
  type        = string
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
