# Redis replication group: TLS in transit with an AUTH token, encrypted at rest with our
# key. Development runs one node; production a primary and replicas across AZs with
# automatic failover.

locals {
  identifier = "${var.name_prefix}-cache"
  port       = 6379
}

resource "aws_security_group" "cache" {
  name        = "${local.identifier}-sg"
  description = "Redis: only from the application service"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${local.identifier}-sg" })
}

resource "aws_vpc_security_group_ingress_rule" "from_clients" {
  count                        = length(var.client_security_group_ids)
  security_group_id            = aws_security_group.cache.id
  description                  = "Redis from the application service"
  ip_protocol                  = "tcp"
  from_port                    = local.port
  to_port                      = local.port
  referenced_security_group_id = var.client_security_group_ids[count.index]
  tags                         = var.tags
}

resource "aws_elasticache_subnet_group" "main" {
  name       = local.identifier
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

# ElastiCache AUTH tokens: 16-128 printable characters; letters and digits only here.
# Secrets Manager generates the value (only hashicorp/aws is needed). A data source reads
# a new value on every plan, so the secret version ignores later values: the token is
# set once at creation and rotated by an operator (ElastiCache two-token rotation), and
# the replication group takes it from the stored version, keeping a second plan empty.
data "aws_secretsmanager_random_password" "auth_token" {
  password_length     = 64
  exclude_punctuation = true
  include_space       = false
}

resource "aws_secretsmanager_secret" "auth_token" {
  #checkov:skip=CKV2_AWS_57:The AUTH token is rotated with ElastiCache's two-token rotation by an operator, not a rotation Lambda.
  name                    = "${local.identifier}/auth-token"
  description             = "Redis AUTH token of ${local.identifier}"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = 7
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "auth_token" {
  secret_id     = aws_secretsmanager_secret.auth_token.id
  secret_string = data.aws_secretsmanager_random_password.auth_token.random_password

  lifecycle {
    ignore_changes = [secret_string]
  }
}

resource "aws_elasticache_replication_group" "main" {
  replication_group_id = local.identifier
  description          = "Sensa cache of ${var.name_prefix}"
  engine               = "redis"
  engine_version       = var.engine_version
  node_type            = var.node_type
  port                 = local.port
  num_cache_clusters   = var.node_count

  automatic_failover_enabled = var.automatic_failover
  multi_az_enabled           = var.automatic_failover

  subnet_group_name  = aws_elasticache_subnet_group.main.name
  security_group_ids = [aws_security_group.cache.id]

  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  transit_encryption_enabled = true
  auth_token                 = aws_secretsmanager_secret_version.auth_token.secret_string

  snapshot_retention_limit   = var.snapshot_retention_days
  snapshot_window            = "03:00-04:00"
  maintenance_window         = "sun:05:00-sun:06:00"
  auto_minor_version_upgrade = true
  apply_immediately          = false

  tags = merge(var.tags, { Name = local.identifier })

  lifecycle {
    precondition {
      condition     = !var.automatic_failover || var.node_count >= 2
      error_message = "automatic_failover needs node_count >= 2."
    }
  }
}
