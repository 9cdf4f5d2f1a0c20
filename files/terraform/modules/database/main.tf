# RDS PostgreSQL 15 in isolated subnets, with RDS Proxy in front of it for the application
# where proxy_enabled (production). The master password never passes through
# Terraform: manage_master_user_password makes RDS generate it and keep it in Secrets
# Manager (encrypted with our key); the playbooks read it from there.

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

locals {
  identifier  = "${var.name_prefix}-db"
  port        = 5432
  log_exports = ["postgresql", "upgrade"]
  proxy_count = var.proxy_enabled ? 1 : 0
  proxy_name  = "${local.identifier}-proxy"
}

resource "aws_db_subnet_group" "main" {
  name        = local.identifier
  description = "Isolated database subnets of ${var.name_prefix}"
  subnet_ids  = var.subnet_ids
  tags        = var.tags
}

resource "aws_security_group" "database" {
  name        = "${local.identifier}-sg"
  description = "PostgreSQL: only from the application (through RDS Proxy where it runs) and the SSM bastion"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${local.identifier}-sg" })
}

# Without the proxy the application connects to the instance; with it, only the proxy does.
resource "aws_vpc_security_group_ingress_rule" "from_clients" {
  count                        = var.proxy_enabled ? 0 : length(var.client_security_group_ids)
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

module "monitoring_trust" {
  source     = "../service_trust"
  service    = "monitoring.rds.amazonaws.com"
  account_id = data.aws_caller_identity.current.account_id
}

resource "aws_iam_role" "monitoring" {
  name               = "${local.identifier}-monitoring"
  assume_role_policy = module.monitoring_trust.json
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

# --- RDS Proxy: the application's connection pool (proxy_enabled) -------------------
# The application connects to the proxy, never to the instance: TLS is required, clients
# authenticate with the application credential (SCRAM), which the proxy reads from the
# application secret that playbooks/rotate_credentials.yml writes. Its user context is
# transaction-local (set_config(..., true)), so transactions multiplex without pinning.
# Operators, migrations and the rotation keep the direct endpoint through the bastion.

resource "aws_security_group" "proxy" {
  #checkov:skip=CKV2_AWS_5:Attached to the proxy (aws_db_proxy.main vpc_security_group_ids); the graph does not follow the count index.
  count       = local.proxy_count
  name        = "${local.proxy_name}-sg"
  description = "RDS Proxy: only from the application service; only to the database"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${local.proxy_name}-sg" })
}

resource "aws_vpc_security_group_ingress_rule" "proxy_from_clients" {
  count                        = var.proxy_enabled ? length(var.client_security_group_ids) : 0
  security_group_id            = aws_security_group.proxy[0].id
  description                  = "PostgreSQL from the application service"
  ip_protocol                  = "tcp"
  from_port                    = local.port
  to_port                      = local.port
  referenced_security_group_id = var.client_security_group_ids[count.index]
  tags                         = var.tags
}

resource "aws_vpc_security_group_egress_rule" "proxy_to_database" {
  count                        = local.proxy_count
  security_group_id            = aws_security_group.proxy[0].id
  description                  = "PostgreSQL to the database"
  ip_protocol                  = "tcp"
  from_port                    = local.port
  to_port                      = local.port
  referenced_security_group_id = aws_security_group.database.id
  tags                         = var.tags
}

resource "aws_vpc_security_group_ingress_rule" "from_proxy" {
  count                        = local.proxy_count
  security_group_id            = aws_security_group.database.id
  description                  = "PostgreSQL from RDS Proxy"
  ip_protocol                  = "tcp"
  from_port                    = local.port
  to_port                      = local.port
  referenced_security_group_id = aws_security_group.proxy[0].id
  tags                         = var.tags
}

data "aws_region" "current" {}

module "proxy_trust" {
  source     = "../service_trust"
  service    = "rds.amazonaws.com"
  account_id = data.aws_caller_identity.current.account_id
}

resource "aws_iam_role" "proxy" {
  count              = local.proxy_count
  name               = local.proxy_name
  description        = "RDS Proxy: read the application secret, nothing else"
  assume_role_policy = module.proxy_trust.json
  tags               = var.tags
}

# The application secret only, decrypted with the stack's key only through Secrets Manager.
data "aws_iam_policy_document" "proxy" {
  statement {
    sid       = "ReadApplicationSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.application.arn]
  }

  statement {
    sid       = "DecryptApplicationSecret"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${data.aws_region.current.name}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "proxy" {
  count  = local.proxy_count
  name   = "read-application-secret"
  role   = aws_iam_role.proxy[0].id
  policy = data.aws_iam_policy_document.proxy.json
}

# RDS Proxy logs to this group; created here with retention and the stack's key.
resource "aws_cloudwatch_log_group" "proxy" {
  count             = local.proxy_count
  name              = "/aws/rds/proxy/${local.proxy_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_db_proxy" "main" {
  count                  = local.proxy_count
  name                   = local.proxy_name
  engine_family          = "POSTGRESQL"
  role_arn               = aws_iam_role.proxy[0].arn
  vpc_subnet_ids         = var.subnet_ids
  vpc_security_group_ids = [aws_security_group.proxy[0].id]
  require_tls            = true
  idle_client_timeout    = var.proxy_idle_client_timeout
  debug_logging          = false
  tags                   = merge(var.tags, { Name = local.proxy_name })

  auth {
    description               = "Application credential (sensa_app_a / sensa_app_b, written by the rotation playbook)"
    auth_scheme               = "SECRETS"
    secret_arn                = aws_secretsmanager_secret.application.arn
    iam_auth                  = "DISABLED"
    client_password_auth_type = "POSTGRES_SCRAM_SHA_256"
  }

  depends_on = [aws_iam_role_policy.proxy, aws_cloudwatch_log_group.proxy]
}

resource "aws_db_proxy_default_target_group" "main" {
  count         = local.proxy_count
  db_proxy_name = aws_db_proxy.main[0].name

  connection_pool_config {
    max_connections_percent      = var.proxy_max_connections_percent
    max_idle_connections_percent = floor(var.proxy_max_connections_percent / 2)
    connection_borrow_timeout    = 120
  }
}

resource "aws_db_proxy_target" "main" {
  count                  = local.proxy_count
  db_proxy_name          = aws_db_proxy.main[0].name
  target_group_name      = aws_db_proxy_default_target_group.main[0].name
  db_instance_identifier = aws_db_instance.main.identifier
}
