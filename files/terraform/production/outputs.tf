# roles/terraform_stack reads these two maps from `terraform output -json`; their keys
# are documented in ../modules/stack/outputs.tf.

output "stack" {
  description = "Endpoints, names and secret ARNs of the stack (no secret values)."
  value       = module.stack.values
}

output "stack_sensitive" {
  description = "Values kept out of logs (the master user name)."
  value       = module.stack.sensitive_values
  sensitive   = true
}
