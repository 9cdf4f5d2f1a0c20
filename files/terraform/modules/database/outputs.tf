output "address" {
  description = "DNS name of the RDS endpoint (no port)."
  value       = aws_db_instance.main.address
}

output "port" {
  description = "PostgreSQL port."
  value       = aws_db_instance.main.port
}

output "database_name" {
  description = "Name of the application database."
  value       = aws_db_instance.main.db_name
}

output "master_user_secret_arn" {
  description = "ARN of the RDS-managed Secrets Manager secret holding the master user name and password."
  value       = aws_db_instance.main.master_user_secret[0].secret_arn
}

output "master_username" {
  description = "Master user name (the password exists only in the RDS-managed secret)."
  value       = aws_db_instance.main.username
  sensitive   = true
}

output "application_secret_name" {
  description = "Secrets Manager name of the application credential."
  value       = aws_secretsmanager_secret.application.name
}

output "application_secret_arn" {
  description = "Secrets Manager ARN of the application credential."
  value       = aws_secretsmanager_secret.application.arn
}

output "security_group_id" {
  description = "Security group of the database."
  value       = aws_security_group.database.id
}

output "instance_identifier" {
  description = "RDS instance identifier (CloudWatch dimension DBInstanceIdentifier)."
  value       = aws_db_instance.main.identifier
}
