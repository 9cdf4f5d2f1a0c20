variable "name_prefix" {
  description = "Prefix of every resource name: sensa-<env>-<developer_id>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name_prefix))
    error_message = "name_prefix must be 3-41 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "vpc_id" {
  description = "VPC of the bastion's security group."
  type        = string
}

variable "subnet_id" {
  description = "Private subnet of the bastion (egress through NAT to the SSM endpoints, no public address)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed KMS key that encrypts the root volume."
  type        = string
}

variable "database_security_group_id" {
  description = "Security group of the database: the bastion's only egress besides HTTPS to SSM."
  type        = string
}

variable "database_port" {
  description = "PostgreSQL port of the database."
  type        = number
  default     = 5432
}

variable "https_egress_cidr_blocks" {
  description = "Where HTTPS may go: the SSM endpoints (public through NAT, or the VPC CIDR when the VPC has SSM interface endpoints)."
  type        = list(string)
  default     = ["0.0.0.0/0"]

  validation {
    condition     = length(var.https_egress_cidr_blocks) > 0 && alltrue([for cidr in var.https_egress_cidr_blocks : can(cidrhost(cidr, 0))])
    error_message = "https_egress_cidr_blocks must list at least one IPv4 CIDR block."
  }
}

variable "instance_type" {
  description = "Instance type: the smallest Graviton type carries port forwarding comfortably."
  type        = string
  default     = "t4g.nano"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]*g[a-z]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "instance_type must be a Graviton (arm64) type such as t4g.nano: the AMI is arm64."
  }
}

variable "root_volume_size" {
  description = "Root volume size in GiB (the Amazon Linux 2023 AMI needs at least 2)."
  type        = number
  default     = 8

  validation {
    condition     = var.root_volume_size >= 2 && var.root_volume_size <= 64
    error_message = "root_volume_size must be between 2 and 64 GiB."
  }
}

variable "ami_ssm_parameter" {
  description = "Public SSM parameter naming the AMI (Amazon Linux 2023, arm64, with the SSM agent)."
  type        = string
  default     = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
}

variable "tags" {
  description = "Tags on every resource."
  type        = map(string)
  default     = {}
}
