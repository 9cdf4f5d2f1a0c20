output "instance_id" {
  description = "Instance id of the bastion: the --target of `aws ssm start-session` (db_path_ssm_target)."
  value       = aws_instance.bastion.id
}

output "security_group_id" {
  description = "Security group of the bastion: the database security group admits it on the PostgreSQL port."
  value       = aws_security_group.bastion.id
}

output "iam_role_name" {
  description = "IAM role of the bastion's instance profile (AmazonSSMManagedInstanceCore only)."
  value       = aws_iam_role.bastion.name
}
