variable "name_prefix" {
  description = "Prefix of every resource name: sensa-<env>-<developer_id>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name_prefix))
    error_message = "name_prefix must be 3-41 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "subnet_ids" {
  description = "Private subnets of the ECS tasks (no public IPs)."
  type        = list(string)
}

variable "service_security_group_id" {
  description = "Security group of the service (created empty by the network module)."
  type        = string
}

variable "database_security_group_id" {
  description = "Security group the service's PostgreSQL egress goes to: RDS Proxy's where it runs, else the database's."
  type        = string
}

variable "cache_security_group_id" {
  description = "Security group of the cache, the target of the service's Redis egress."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key for the log group and the secrets the tasks read."
  type        = string
}

variable "container_image" {
  description = "Image of the application container (registry/repository:tag or @digest)."
  type        = string

  validation {
    condition     = length(var.container_image) > 0 && !endswith(var.container_image, ":latest")
    error_message = "container_image must be pinned to a tag or digest other than :latest."
  }
}

variable "container_port" {
  description = "Port the application listens on."
  type        = number
  default     = 8000

  validation {
    condition     = var.container_port > 0 && var.container_port < 65536
    error_message = "container_port must be a TCP port."
  }
}

variable "task_cpu" {
  description = "Fargate task CPU units."
  type        = number

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096], var.task_cpu)
    error_message = "task_cpu must be a Fargate CPU size: 256, 512, 1024, 2048 or 4096."
  }
}

variable "task_memory" {
  description = "Fargate task memory in MiB."
  type        = number

  validation {
    condition     = var.task_memory >= 512 && var.task_memory <= 30720
    error_message = "task_memory must be between 512 and 30720 MiB."
  }
}

variable "desired_count" {
  description = "Tasks to run (the autoscaling minimum when autoscaling is on)."
  type        = number

  validation {
    condition     = var.desired_count >= 1 && var.desired_count <= 50
    error_message = "desired_count must be between 1 and 50."
  }
}

variable "autoscaling_enabled" {
  description = "Target-tracking autoscaling of the service on CPU (production)."
  type        = bool
}

variable "autoscaling_max_count" {
  description = "Upper bound of the autoscaled task count."
  type        = number
  default     = 2

  validation {
    condition     = var.autoscaling_max_count >= 1 && var.autoscaling_max_count <= 100
    error_message = "autoscaling_max_count must be between 1 and 100."
  }
}

variable "autoscaling_cpu_target" {
  description = "Average CPU utilisation (percent) autoscaling keeps the service at."
  type        = number
  default     = 60

  validation {
    condition     = var.autoscaling_cpu_target >= 10 && var.autoscaling_cpu_target <= 90
    error_message = "autoscaling_cpu_target must be between 10 and 90."
  }
}

variable "application_secret_arn" {
  description = "Secret holding the application database credential (injected as DATABASE_CREDENTIALS)."
  type        = string
}

variable "cache_auth_secret_arn" {
  description = "Secret holding the Redis AUTH token (injected as REDIS_AUTH_TOKEN)."
  type        = string
}

variable "environment_variables" {
  description = "Plain (non-secret) environment of the application container."
  type        = map(string)
  default     = {}
}

variable "bucket_arns" {
  description = "S3 buckets the application reads and writes (uploads, artifacts)."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "Retention of the application log group."
  type        = number
  default     = 365

  validation {
    condition     = contains([365, 400, 545, 731, 1827, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch retention value of at least one year."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
