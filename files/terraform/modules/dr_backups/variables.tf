variable "name" {
  description = "Name prefix of the DR resources, e.g. sensa-production."
  type        = string
}

variable "source_db_instance_arn" {
  description = "ARN of the RDS instance whose automated backups are replicated into the DR region."
  type        = string
}

variable "retention_period" {
  description = "Days the replicated automated backups are kept in the DR region (point-in-time restore window there)."
  type        = number
  default     = 7

  validation {
    condition     = var.retention_period >= 1 && var.retention_period <= 35
    error_message = "retention_period must be between 1 and 35 days (the RDS limit)."
  }
}

variable "primary_kms_key_arn" {
  description = <<-EOT
    The source region's CMK. When it is a multi-Region key (multi_region = true), the DR key is its replica
    (same key material, usable on both sides); otherwise leave it empty and a key of its own is created in the
    DR region. A KMS key never leaves its region, so the replicated backups are re-encrypted with the DR key.
  EOT
  type        = string
  default     = ""
}

variable "kms_deletion_window_in_days" {
  description = "Waiting period before a deleted DR key is destroyed."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
