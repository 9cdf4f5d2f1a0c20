variable "name_prefix" {
  description = "Prefix of every resource name: sensa-<env>-<developer_id>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name_prefix))
    error_message = "name_prefix must be 3-41 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC: each tier (public, private, database) takes a quarter of it, each AZ a quarter of its tier."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 18
    error_message = "vpc_cidr must be a valid IPv4 CIDR of size /18 or larger."
  }
}

variable "availability_zones" {
  description = "Availability zones to spread the subnets over (at least two: RDS subnet groups need two)."
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 4
    error_message = "availability_zones must list between two and four zones."
  }
}

variable "nat_gateway_per_az" {
  description = "One NAT gateway per AZ (high availability) instead of one shared NAT gateway (cost)."
  type        = bool
}

variable "kms_key_arn" {
  description = "KMS key encrypting the flow-log log group."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the VPC flow-log log group."
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
