# Read by roles/terraform_stack (community.general.terraform returns them from
# `terraform output -json`) and handed to the database play through add_host.

output "aws_region" {
  description = "Region of the stack (the playbooks read the secrets there)."
  value       = var.aws_region
}

output "environment" {
  description = "development or production."
  value       = local.environment
}

output "name_prefix" {
  description = "Prefix of every resource name (sensa-<env>-<developer_id>)."
  value       = local.name_prefix
}

output "database_address" {
  description = "Endpoint address (DNS name) of the RDS PostgreSQL instance."
  value       = module.database.address
}

output "database_port" {
  description = "Port of the RDS PostgreSQL instance."
  value       = module.database.port
}

output "database_name" {
  description = "Name of the application database."
  value       = module.database.database_name
}

output "database_master_secret_arn" {
  description = "ARN of the RDS-managed secret (manage_master_user_password) with the master user name and password."
  value       = module.database.master_user_secret_arn
}

output "database_master_username" {
  description = "Master user name (sensitive; the password exists only in the RDS-managed secret)."
  value       = module.database.master_username
  sensitive   = true
}

output "application_secret_name" {
  description = "Secrets Manager name of the application credential (written by the rotation playbook)."
  value       = module.database.application_secret_name
}

output "application_secret_arn" {
  description = "Secrets Manager ARN of the application credential."
  value       = module.database.application_secret_arn
}

output "database_security_group_id" {
  description = "Security group of the database."
  value       = module.database.security_group_id
}

output "service_security_group_id" {
  description = "Security group of the ECS service, the database's only application client."
  value       = module.network.service_security_group_id
}

output "cache_security_group_id" {
  description = "Security group of the cache."
  value       = module.cache.security_group_id
}

output "cache_endpoint" {
  description = "Primary endpoint address of the Redis replication group (TLS and AUTH required)."
  value       = module.cache.primary_endpoint_address
}

output "cache_port" {
  description = "Port of the Redis replication group."
  value       = module.cache.port
}

output "cache_auth_secret_arn" {
  description = "Secrets Manager ARN of the Redis AUTH token."
  value       = module.cache.auth_token_secret_arn
}

output "bucket_names" {
  description = "S3 bucket names by purpose (uploads, artifacts, logs)."
  value       = module.storage.bucket_names
}

output "kms_key_arn" {
  description = "KMS key encrypting everything at rest."
  value       = module.keys.key_arn
}

output "alarm_topic_arn" {
  description = "SNS topic of the CloudWatch alarms."
  value       = module.monitoring.alarm_topic_arn
}

output "ecs_cluster_name" {
  description = "ECS cluster of the application."
  value       = module.compute.cluster_name
}

output "vpc_id" {
  description = "VPC of the stack."
  value       = module.network.vpc_id
}
