variable "name_prefix" {
  description = "Prefix of every resource name: sensa-<env>-<developer_id>."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,40}$", var.name_prefix))
    error_message = "name_prefix must be 3-41 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "deletion_window_in_days" {
  description = "Waiting period before AWS deletes the key after it is scheduled for deletion."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}

variable "tags" {
  description = "Tags applied to every resource of the module."
  type        = map(string)
  default     = {}
}

variable "cloudtrail_trail_name" {
  description = "Name of the stack's CloudTrail trail, the one trail whose log files the key encrypts (empty: the stack has no trail)."
  type        = string
  default     = ""

  validation {
    condition     = var.cloudtrail_trail_name == "" || can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{2,127}$", var.cloudtrail_trail_name))
    error_message = "cloudtrail_trail_name must be a CloudTrail trail name (3-128 letters, digits, periods, underscores or hyphens)."
  }
}
