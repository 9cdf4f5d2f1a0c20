variable "aws_region" {
  description = "AWS region of the stack."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be an AWS region name such as eu-west-1."
  }
}

variable "availability_zones" {
  description = "Availability zones of the subnets (two or more)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && alltrue([for az in var.availability_zones : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9][a-z]$", az))])
    error_message = "availability_zones must list at least two zone names such as eu-west-1a."
  }
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "vpc_cidr must be a valid IPv4 CIDR block."
  }
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.db_instance_class))
    error_message = "db_instance_class must look like db.<family>.<size>."
  }
}

variable "db_allocated_storage" {
  description = "Initial gp3 storage of the database in GiB."
  type        = number

  validation {
    condition     = var.db_allocated_storage >= 20
    error_message = "db_allocated_storage must be at least 20 GiB."
  }
}

variable "db_max_allocated_storage" {
  description = "Storage autoscaling cap of the database in GiB."
  type        = number

  validation {
    condition     = var.db_max_allocated_storage >= 20 && var.db_max_allocated_storage <= 65536
    error_message = "db_max_allocated_storage must be between 20 and 65536 GiB."
  }
}

variable "db_backup_retention_days" {
  description = "Automated backup retention of the database in days."
  type        = number

  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be between 1 and 35."
  }
}

variable "db_log_min_duration_statement_ms" {
  description = "Statements slower than this many milliseconds are logged."
  type        = number

  validation {
    condition     = var.db_log_min_duration_statement_ms >= 0
    error_message = "db_log_min_duration_statement_ms must be zero or positive."
  }
}

variable "cache_node_type" {
  description = "ElastiCache node type."
  type        = string

  validation {
    condition     = can(regex("^cache\\.[a-z0-9]+\\.[a-z0-9]+$", var.cache_node_type))
    error_message = "cache_node_type must look like cache.<family>.<size>."
  }
}

variable "container_image" {
  description = "Image of the application container, pinned to a tag or digest."
  type        = string

  validation {
    condition     = length(var.container_image) > 0 && !endswith(var.container_image, ":latest")
    error_message = "container_image must be pinned to a tag or digest other than :latest."
  }
}

variable "task_cpu" {
  description = "Fargate CPU units of one application task."
  type        = number

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096], var.task_cpu)
    error_message = "task_cpu must be 256, 512, 1024, 2048 or 4096."
  }
}

variable "task_memory" {
  description = "Fargate memory (MiB) of one application task."
  type        = number

  validation {
    condition     = var.task_memory >= 512 && var.task_memory <= 30720
    error_message = "task_memory must be between 512 and 30720 MiB."
  }
}

variable "service_desired_count" {
  description = "Application tasks to run (autoscaling minimum in production)."
  type        = number

  validation {
    condition     = var.service_desired_count >= 1 && var.service_desired_count <= 50
    error_message = "service_desired_count must be between 1 and 50."
  }
}

variable "application_secret_name" {
  description = "Secrets Manager name of the application database credential (from the inventory)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9/_+=.@-]{1,512}$", var.application_secret_name))
    error_message = "application_secret_name must be a valid Secrets Manager secret name."
  }
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alarm topic."
  type        = list(string)

  validation {
    condition     = alltrue([for address in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", address))])
    error_message = "alarm_emails must be e-mail addresses."
  }
}

variable "environment" {
  description = "development or production: the SENSA_ENVIRONMENT of the application."
  type        = string

  validation {
    condition     = contains(["development", "production"], var.environment)
    error_message = "environment must be development or production."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name: sensa-dev-<developer_id> or sensa-prod."
  type        = string
}

variable "tags" {
  description = "Tags of every taggable resource (also the provider's default_tags)."
  type        = map(string)
}

variable "nat_gateway_per_az" {
  description = "One NAT gateway per availability zone (true) or a single shared one."
  type        = bool
}

variable "db_multi_az" {
  description = "RDS Multi-AZ standby."
  type        = bool
}

variable "cloudtrail_enabled" {
  description = "A CloudTrail trail of the stack (management events of every region, validated, encrypted), with its bucket."
  type        = bool
}

variable "db_proxy_enabled" {
  description = "RDS Proxy in front of the database for the application."
  type        = bool
}

variable "db_deletion_protection" {
  description = "RDS deletion protection."
  type        = bool
}

variable "db_skip_final_snapshot" {
  description = "Skip the final snapshot when the database is destroyed."
  type        = bool
}

variable "db_performance_insights_retention_days" {
  description = "Performance Insights retention (7, or a multiple of 31 up to 731)."
  type        = number
}

variable "db_monitoring_interval" {
  description = "Enhanced monitoring interval in seconds."
  type        = number
}

variable "cache_node_count" {
  description = "Redis nodes: 1 in development, a primary and replicas in production."
  type        = number

  validation {
    condition     = var.cache_node_count >= 1 && var.cache_node_count <= 6
    error_message = "cache_node_count must be between 1 and 6."
  }
}

variable "cache_automatic_failover" {
  description = "Redis automatic failover and Multi-AZ (needs cache_node_count >= 2)."
  type        = bool
}

variable "cache_snapshot_retention_days" {
  description = "Days of Redis snapshots kept."
  type        = number
}

variable "storage_force_destroy" {
  description = "Let a destroy delete non-empty buckets (development only)."
  type        = bool
}

variable "service_autoscaling_enabled" {
  description = "Target-tracking autoscaling of the application service."
  type        = bool
}

variable "service_autoscaling_max_count" {
  description = "Upper bound of the autoscaled application task count."
  type        = number

  validation {
    condition     = var.service_autoscaling_max_count >= 1 && var.service_autoscaling_max_count <= 100
    error_message = "service_autoscaling_max_count must be between 1 and 100."
  }
}

variable "alarms_enabled" {
  description = "Create the CloudWatch alarms."
  type        = bool
}
