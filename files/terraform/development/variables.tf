variable "aws_region" {
  description = "AWS region of the stack."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be an AWS region name such as eu-west-1."
  }
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

  validation {
    condition     = length(var.availability_zones) >= 2 && alltrue([for az in var.availability_zones : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9][a-z]$", az))])
    error_message = "availability_zones must list at least two zone names such as eu-west-1a."
  }
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "vpc_cidr must be a valid IPv4 CIDR block."
  }
}

variable "admin_cidr_blocks" {
  description = "Operator networks allowed to reach PostgreSQL (VPN, bastion). Never 0.0.0.0/0."
  type        = list(string)
  default     = []

  validation {
    condition = alltrue([
      for cidr in var.admin_cidr_blocks :
      can(cidrhost(cidr, 0)) && !contains(["0.0.0.0/0", "::/0"], cidr) && tonumber(split("/", cidr)[1]) >= 16
    ])
    error_message = "admin_cidr_blocks must be valid IPv4 CIDRs of /16 or narrower; 0.0.0.0/0 is refused."
  }
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.medium"

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.db_instance_class))
    error_message = "db_instance_class must look like db.<family>.<size>."
  }
}

variable "db_allocated_storage" {
  description = "Initial gp3 storage of the database in GiB."
  type        = number
  default     = 20

  validation {
    condition     = var.db_allocated_storage >= 20
    error_message = "db_allocated_storage must be at least 20 GiB."
  }
}

variable "db_max_allocated_storage" {
  description = "Storage autoscaling cap of the database in GiB."
  type        = number
  default     = 100

  validation {
    condition     = var.db_max_allocated_storage >= 20 && var.db_max_allocated_storage <= 65536
    error_message = "db_max_allocated_storage must be between 20 and 65536 GiB."
  }
}

variable "db_backup_retention_days" {
  description = "Automated backup retention of the database in days."
  type        = number
  default     = 3

  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be between 1 and 35."
  }
}

variable "db_log_min_duration_statement_ms" {
  description = "Statements slower than this many milliseconds are logged."
  type        = number
  default     = 500

  validation {
    condition     = var.db_log_min_duration_statement_ms >= 0
    error_message = "db_log_min_duration_statement_ms must be zero or positive."
  }
}

variable "cache_node_type" {
  description = "ElastiCache node type."
  type        = string
  default     = "cache.t4g.micro"

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
  default     = 256

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096], var.task_cpu)
    error_message = "task_cpu must be 256, 512, 1024, 2048 or 4096."
  }
}

variable "task_memory" {
  description = "Fargate memory (MiB) of one application task."
  type        = number
  default     = 512

  validation {
    condition     = var.task_memory >= 512 && var.task_memory <= 30720
    error_message = "task_memory must be between 512 and 30720 MiB."
  }
}

variable "service_desired_count" {
  description = "Application tasks to run (autoscaling minimum in production)."
  type        = number
  default     = 1

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
  default     = []

  validation {
    condition     = alltrue([for address in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", address))])
    error_message = "alarm_emails must be e-mail addresses."
  }
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
