# roles/terraform_stack reads these two maps from `terraform output -json`; their keys
# are documented in ../modules/stack/outputs.tf. Production adds the disaster-recovery
# keys the restore drill reads (sensa_terraform_outputs.dr_*): the DR region, the ARN of
# the replicated automated backups there and the DR region's key.

output "stack" {
  description = "Endpoints, names and secret ARNs of the stack (no secret values), with the DR region's."
  value = merge(module.stack.values, {
    dr_region                = module.dr_backups.dr_region
    dr_automated_backups_arn = module.dr_backups.automated_backups_replication_arn
    dr_kms_key_arn           = module.dr_backups.dr_kms_key_arn
  })
}

output "stack_sensitive" {
  description = "Values kept out of logs (the master user name)."
  value       = module.stack.sensitive_values
  sensitive   = true
}
