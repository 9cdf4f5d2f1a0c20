# Inputs of the development root (from the inventory through roles/terraform_stack). The
# defaults are development's values; ../modules/stack validates every value once for both roots.

variable "aws_region" {
  description = "AWS region of the stack."
  type        = string
}

variable "developer_id" {
  description = "Owner of this copy of the stack; part of every resource name so developers never collide."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,11}$", var.developer_id))
    error_message = "developer_id must be 2-12 lowercase letters or digits, starting with a letter."
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
  default     = "db.t4g.medium"
}

variable "db_allocated_storage" {
  description = "Initial gp3 storage of the database in GiB."
  type        = number
  default     = 20
}

variable "db_max_allocated_storage" {
  description = "Storage autoscaling cap of the database in GiB."
  type        = number
  default     = 100
}

variable "db_backup_retention_days" {
  description = "Automated backup retention of the database in days."
  type        = number
  default     = 3
}

variable "db_log_min_duration_statement_ms" {
  description = "Statements slower than this many milliseconds are logged."
  type        = number
  default     = 500
}

variable "cache_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t4g.micro"
}

variable "container_image" {
  description = "Image of the application container, pinned to a tag or digest."
  type        = string
}

variable "task_cpu" {
  description = "Fargate CPU units of one application task."
  type        = number
  default     = 256
}

variable "task_memory" {
  description = "Fargate memory (MiB) of one application task."
  type        = number
  default     = 512
}

variable "service_desired_count" {
  description = "Application tasks to run (autoscaling minimum in production)."
  type        = number
  default     = 1
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
  description = "Tags added to the standard set (Project, Environment, Developer, ManagedBy)."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(setintersection(keys(var.extra_tags), ["Project", "Environment", "Developer", "ManagedBy"])) == 0
    error_message = "extra_tags must not override Project, Environment, Developer or ManagedBy."
  }
}
