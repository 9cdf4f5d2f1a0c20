output "address" {
  description = "DNS name of the instance's own endpoint (no port): operators, migrations and the rotation, through the bastion."
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

output "instance_arn" {
  description = "ARN of the RDS instance (the source of the DR backup replication)."
  value       = aws_db_instance.main.arn
}

output "proxy_endpoint" {
  description = "Endpoint of RDS Proxy (null without the proxy)."
  value       = var.proxy_enabled ? aws_db_proxy.main[0].endpoint : null
}

output "application_address" {
  description = "Where the application connects: RDS Proxy where it runs, else the instance."
  value       = var.proxy_enabled ? aws_db_proxy.main[0].endpoint : aws_db_instance.main.address
}

output "application_security_group_id" {
  description = "Security group the application's egress to PostgreSQL goes to: the proxy's where it runs, else the database's."
  value       = var.proxy_enabled ? aws_security_group.proxy[0].id : aws_security_group.database.id
}
