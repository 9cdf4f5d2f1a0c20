output "key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts everything at rest."
  value       = aws_kms_key.main.arn
}

output "key_id" {
  description = "Key id of the customer-managed KMS key."
  value       = aws_kms_key.main.key_id
}

output "alias_name" {
  description = "Alias of the key (alias/<name_prefix>)."
  value       = aws_kms_alias.main.name
}
