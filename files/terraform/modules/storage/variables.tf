variable "name_prefix" {
  description = "Prefix of every resource name: sensa-<env>-<developer_id>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name_prefix))
    error_message = "name_prefix must be 3-31 lowercase letters, digits or hyphens (bucket names are limited to 63 characters)."
  }
}

variable "kms_key_arn" {
  description = "KMS key for SSE-KMS default encryption of every bucket."
  type        = string
}

variable "force_destroy" {
  description = "Let Terraform delete non-empty buckets (development teardown only)."
  type        = bool
  default     = false
}

variable "log_transition_days" {
  description = "Days after which objects in the logs bucket move to STANDARD_IA."
  type        = number
  default     = 30

  validation {
    condition     = var.log_transition_days >= 30
    error_message = "log_transition_days must be at least 30 (STANDARD_IA minimum)."
  }
}

variable "log_expiration_days" {
  description = "Days after which objects in the logs bucket expire."
  type        = number
  default     = 365

  validation {
    condition     = var.log_expiration_days >= 90
    error_message = "log_expiration_days must be at least 90."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which non-current object versions expire in every bucket."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be positive."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}

variable "cloudtrail_trail_name" {
  description = "Name of the stack's CloudTrail trail, the only trail the trail bucket accepts log files from (empty: no trail, no trail bucket)."
  type        = string
  default     = ""
}
