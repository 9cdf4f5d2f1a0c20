variable "name_prefix" {
  description = "Prefix of every resource name: sensa-dev-<developer_id> or sensa-prod."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name_prefix))
    error_message = "name_prefix must be 3-41 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "trail_name" {
  description = "Name of the trail (the keys and storage modules admit it by this name)."
  type        = string
}

variable "bucket_name" {
  description = "Bucket of the trail's log files (its policy admits this trail; modules/storage)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed key that encrypts the log files and the log group (its policy admits this trail; modules/keys)."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the trail's CloudWatch log group (the S3 log files follow the logs bucket lifecycle)."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}
