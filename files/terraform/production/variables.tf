# Inputs of the production root (from the inventory through roles/terraform_stack). The
# defaults are production's values; ../modules/stack validates every value once for both roots,
# the rules only production has stay here.

variable "aws_region" {
  description = "AWS region of the stack."
  type        = string
}

variable "dr_region" {
  description = "Disaster-recovery region: the database's automated backups are replicated there. Must differ from aws_region."
  type        = string
  default     = "eu-central-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.dr_region))
    error_message = "dr_region must be an AWS region name such as eu-central-1."
  }
}

variable "dr_backup_retention_days" {
  description = "Days the replicated automated backups are kept in the DR region (its point-in-time restore window)."
  type        = number
  default     = 7

  validation {
    condition     = var.dr_backup_retention_days >= 1 && var.dr_backup_retention_days <= 35
    error_message = "dr_backup_retention_days must be between 1 and 35."
  }
}

variable "availability_zones" {
  description = "Availability zones of the subnets (two or more)."
  type        = list(string)
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
  default     = "10.40.0.0/16"
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.r6g.large"
}

variable "db_allocated_storage" {
  description = "Initial gp3 storage of the database in GiB."
  type        = number
  default     = 100
}

variable "db_max_allocated_storage" {
  description = "Storage autoscaling cap of the database in GiB."
  type        = number
  default     = 1000
}

variable "db_backup_retention_days" {
  description = "Automated backup retention of the database in days."
  type        = number
  default     = 14

  validation {
    condition     = var.db_backup_retention_days >= 7 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be between 7 and 35."
  }
}

variable "db_log_min_duration_statement_ms" {
  description = "Statements slower than this many milliseconds are logged."
  type        = number
  default     = 500
}

variable "cache_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.r6g.large"
}

variable "cache_node_count" {
  description = "Redis nodes: a primary and replicas spread over the availability zones."
  type        = number
  default     = 2

  validation {
    condition     = var.cache_node_count >= 2 && var.cache_node_count <= 6
    error_message = "cache_node_count must be between 2 and 6 (automatic failover needs a replica)."
  }
}

variable "container_image" {
  description = "Image of the application container, pinned to a tag or digest."
  type        = string
}

variable "task_cpu" {
  description = "Fargate CPU units of one application task."
  type        = number
  default     = 1024
}

variable "task_memory" {
  description = "Fargate memory (MiB) of one application task."
  type        = number
  default     = 2048
}

variable "service_desired_count" {
  description = "Application tasks to run (autoscaling minimum in production)."
  type        = number
  default     = 2

  validation {
    condition     = var.service_desired_count >= 2 && var.service_desired_count <= 50
    error_message = "service_desired_count must be between 2 and 50."
  }
}

variable "service_autoscaling_max_count" {
  description = "Upper bound of the autoscaled application task count."
  type        = number
  default     = 6
}

variable "application_secret_name" {
  description = "Secrets Manager name of the application database credential (from the inventory)."
  type        = string
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alarm topic."
  type        = list(string)
  default     = []
}

variable "extra_tags" {
  description = "Tags added to the standard set (Project, Environment, ManagedBy)."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(setintersection(keys(var.extra_tags), ["Project", "Environment", "ManagedBy"])) == 0
    error_message = "extra_tags must not override Project, Environment or ManagedBy."
  }
}
