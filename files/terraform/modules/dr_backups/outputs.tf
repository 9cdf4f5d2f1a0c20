output "dr_region" {
  description = "Region the automated backups are replicated into."
  value       = local.dr_region
}

output "dr_kms_key_arn" {
  description = "The DR region's key (restore_drill_dr_kms_key_id of the restore drill)."
  value       = local.dr_kms_key_arn
}

output "dr_kms_key_kind" {
  description = "Whether the DR key replicates the primary CMK or is a key of its own."
  value       = local.dr_kms_key_kind
}

output "automated_backups_replication_arn" {
  description = "ARN of the replicated automated backups in the DR region (the source of a point-in-time restore there)."
  value       = aws_db_instance_automated_backups_replication.this.id
}
