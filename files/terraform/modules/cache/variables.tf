variable "name_prefix" {
  description = "Prefix of every resource name: sensa-<env>-<developer_id>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,33}$", var.name_prefix))
    error_message = "name_prefix must be 3-34 lowercase letters, digits or hyphens (ElastiCache ids are limited to 40 characters)."
  }
}

variable "vpc_id" {
  description = "VPC of the cache security group."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets for the cache nodes."
  type        = list(string)
}

variable "client_security_group_ids" {
  description = "Security groups allowed to reach Redis (the ECS service)."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "KMS key for data at rest and for the AUTH token secret."
  type        = string
}

variable "node_type" {
  description = "ElastiCache node type (cache.t4g.micro in development)."
  type        = string

  validation {
    condition     = can(regex("^cache\\.[a-z0-9]+\\.[a-z0-9]+$", var.node_type))
    error_message = "node_type must look like cache.<family>.<size>."
  }
}

variable "node_count" {
  description = "Number of cache nodes: 1 in development; 2 or more (primary plus replicas across AZs) in production."
  type        = number

  validation {
    condition     = var.node_count >= 1 && var.node_count <= 6
    error_message = "node_count must be between 1 and 6."
  }
}

variable "automatic_failover" {
  description = "Automatic failover and Multi-AZ for the replication group (needs node_count >= 2)."
  type        = bool
}

variable "engine_version" {
  description = "Redis engine version."
  type        = string
  default     = "7.1"

  validation {
    condition     = can(regex("^[67]\\.[0-9]+$", var.engine_version))
    error_message = "engine_version must be a Redis 6.x or 7.x version."
  }
}

variable "snapshot_retention_days" {
  description = "Days of automatic snapshots to keep."
  type        = number
  default     = 1

  validation {
    condition     = var.snapshot_retention_days >= 1 && var.snapshot_retention_days <= 35
    error_message = "snapshot_retention_days must be between 1 and 35."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
