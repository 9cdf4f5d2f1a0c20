output "json" {
  description = "The trust policy document (assume_role_policy of the role)."
  value       = data.aws_iam_policy_document.trust.json
}
