output "primary_endpoint_address" {
  description = "Primary endpoint of the replication group (TLS, AUTH)."
  value       = aws_elasticache_replication_group.main.primary_endpoint_address
}

output "reader_endpoint_address" {
  description = "Reader endpoint of the replication group."
  value       = aws_elasticache_replication_group.main.reader_endpoint_address
}

output "port" {
  description = "Redis port."
  value       = aws_elasticache_replication_group.main.port
}

output "auth_token_secret_arn" {
  description = "Secrets Manager ARN of the Redis AUTH token."
  value       = aws_secretsmanager_secret.auth_token.arn
}

output "security_group_id" {
  description = "Security group of the cache."
  value       = aws_security_group.cache.id
}

output "replication_group_id" {
  description = "Replication group id (CloudWatch dimension ReplicationGroupId / CacheClusterId prefix)."
  value       = aws_elasticache_replication_group.main.id
}
