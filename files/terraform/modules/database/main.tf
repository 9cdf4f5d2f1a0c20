# RDS PostgreSQL 15 in isolated subnets. The master password never passes through
# Terraform: manage_master_user_password makes RDS generate it and keep it in Secrets
# Manager (encrypted with our key); the playbooks read it from there.

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  identifier  = "${var.name_prefix}-db"
  port        = 5432
  log_exports = ["postgresql", "upgrade"]
}

resource "aws_db_subnet_group" "main" {
  name        = local.identifier
  description = "Isolated database subnets of ${var.name_prefix}"
  subnet_ids  = var.subnet_ids
  tags        = var.tags
}

resource "aws_security_group" "database" {
  name        = "${local.identifier}-sg"
  description = "PostgreSQL: only from the application service and the SSM bastion"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${local.identifier}-sg" })
}

resource "aws_vpc_security_group_ingress_rule" "from_clients" {
  count                        = length(var.client_security_group_ids)
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL from the application service"
  ip_protocol                  = "tcp"
  from_port                    = local.port
  to_port                      = local.port
  referenced_security_group_id = var.client_security_group_ids[count.index]
  tags                         = var.tags
}

# Operators reach PostgreSQL only through the SSM bastion (a port forward): its security
# group, never a network range.
resource "aws_vpc_security_group_ingress_rule" "from_bastion" {
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL from the SSM bastion"
  ip_protocol                  = "tcp"
  from_port                    = local.port
  to_port                      = local.port
  referenced_security_group_id = var.bastion_security_group_id
  tags                         = var.tags
}

resource "aws_db_parameter_group" "main" {
  # name_prefix: a change that replaces the group creates the new one first.
  name_prefix = "${local.identifier}-pg15-"
  family      = "postgres15"
  description = "TLS only, slow-statement logging, pg_stat_statements"
  tags        = var.tags

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = tostring(var.log_min_duration_statement_ms)
  }

  # DDL is logged so schema changes leave a trace next to migrations_log.
  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  parameter {
    name  = "log_connections"
    value = "1"
  }

  parameter {
    name  = "log_disconnections"
    value = "1"
  }

  parameter {
    name         = "shared_preload_libraries"
    value        = "pg_stat_statements"
    apply_method = "pending-reboot"
  }

  parameter {
    name  = "pg_stat_statements.track"
    value = "top"
  }

  lifecycle {
    create_before_destroy = true
  }
}

data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  name               = "${local.identifier}-monitoring"
  assume_role_policy = data.aws_iam_policy_document.monitoring_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  role       = aws_iam_role.monitoring.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

# The log groups RDS exports to, created here with retention and the stack's key.
resource "aws_cloudwatch_log_group" "exports" {
  for_each          = toset(local.log_exports)
  name              = "/aws/rds/instance/${local.identifier}/${each.value}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_db_instance" "main" {
  identifier     = local.identifier
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class
  port           = local.port
  db_name        = var.database_name

  username                      = var.master_username
  manage_master_user_password   = true
  master_user_secret_kms_key_id = var.kms_key_arn

  allocated_storage     = var.allocated_storage
  max_allocated_storage = var.max_allocated_storage
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = var.kms_key_arn

  multi_az               = var.multi_az
  db_subnet_group_name   = aws_db_subnet_group.main.name
  vpc_security_group_ids = [aws_security_group.database.id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.main.name
  ca_cert_identifier     = "rds-ca-rsa2048-g1"

  iam_database_authentication_enabled = true
  auto_minor_version_upgrade          = true
  allow_major_version_upgrade         = false
  apply_immediately                   = false

  backup_retention_period = var.backup_retention_days
  backup_window           = var.backup_window
  maintenance_window      = var.maintenance_window
  copy_tags_to_snapshot   = true
  deletion_protection     = var.deletion_protection
  skip_final_snapshot     = var.skip_final_snapshot
  # Unique per instance (the time of its first plan), so a recreated database never collides
  # with the final snapshot of its predecessor.
  final_snapshot_identifier = "${local.identifier}-final-${formatdate("YYYYMMDDhhmmss", plantimestamp())}"
  delete_automated_backups  = !var.deletion_protection

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.kms_key_arn
  performance_insights_retention_period = var.performance_insights_retention_days
  monitoring_interval                   = var.monitoring_interval
  monitoring_role_arn                   = aws_iam_role.monitoring.arn
  enabled_cloudwatch_logs_exports       = local.log_exports

  tags = merge(var.tags, { Name = local.identifier })

  # RDS would create the log groups itself, unencrypted and kept forever.
  depends_on = [aws_cloudwatch_log_group.exports]

  lifecycle {
    ignore_changes = [final_snapshot_identifier]

    precondition {
      condition     = var.max_allocated_storage > var.allocated_storage
      error_message = "max_allocated_storage must exceed allocated_storage for storage autoscaling."
    }
  }
}

# The application credential (sensa_app_a / sensa_app_b): Terraform creates the empty
# secret, playbooks/rotate_credentials.yml writes and rotates its value.
resource "aws_secretsmanager_secret" "application" {
  #checkov:skip=CKV2_AWS_57:Rotated by playbooks/rotate_credentials.yml (alternating users), not by a rotation Lambda.
  name                    = var.application_secret_name
  description             = "Application database credential of ${var.name_prefix} (written by the rotation playbook)"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.deletion_protection ? 30 : 7
  tags                    = var.tags
}
