# Production disaster recovery: the RDS instance's automated backups (snapshots and
# transaction logs) are replicated into a second region, encrypted there with a key of that
# region, so the database can be restored to a point in time in the DR region when the
# primary region is lost. playbooks/restore_drill.yml -e restore_region=<dr region> drills the
# restore; docs/operations.md ("Disaster recovery") is the runbook.
#
# Both resources live in the DR region: the caller passes its DR provider as aws.dr.

data "aws_caller_identity" "current" {
  provider = aws.dr
}

data "aws_partition" "current" {
  provider = aws.dr
}

data "aws_iam_policy_document" "dr_key" {
  #checkov:skip=CKV_AWS_111:A key policy is attached to one key: Resource "*" means this key only.
  #checkov:skip=CKV_AWS_356:A key policy is attached to one key: Resource "*" means this key only.
  #checkov:skip=CKV_AWS_109:The account root statement is the AWS default key policy; IAM policies then scope access.
  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  # RDS re-encrypts the replicated backups and restores instances from them.
  statement {
    sid       = "RdsBackupReplication"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["rds.${local.dr_region}.amazonaws.com"]
    }
  }
}

data "aws_region" "dr" {
  provider = aws.dr
}

locals {
  dr_region       = data.aws_region.dr.name
  replicate_key   = var.primary_kms_key_arn != ""
  dr_kms_key_arn  = local.replicate_key ? aws_kms_replica_key.dr[0].arn : aws_kms_key.dr[0].arn
  dr_kms_key_kind = local.replicate_key ? "replica of ${var.primary_kms_key_arn}" : "key of its own"
}

resource "aws_kms_replica_key" "dr" {
  count    = local.replicate_key ? 1 : 0
  provider = aws.dr

  description             = "${var.name} DR replica of the database key (replicated automated backups)"
  primary_key_arn         = var.primary_kms_key_arn
  deletion_window_in_days = var.kms_deletion_window_in_days
  policy                  = data.aws_iam_policy_document.dr_key.json
  tags                    = var.tags
}

resource "aws_kms_key" "dr" {
  count    = local.replicate_key ? 0 : 1
  provider = aws.dr

  description             = "${var.name} DR key (replicated automated backups)"
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_deletion_window_in_days
  policy                  = data.aws_iam_policy_document.dr_key.json
  tags                    = var.tags
}

resource "aws_kms_alias" "dr" {
  provider = aws.dr

  name          = "alias/${var.name}-dr-backups"
  target_key_id = local.dr_kms_key_arn
}

resource "aws_db_instance_automated_backups_replication" "this" {
  provider = aws.dr

  source_db_instance_arn = var.source_db_instance_arn
  retention_period       = var.retention_period
  kms_key_id             = local.dr_kms_key_arn

  lifecycle {
    precondition {
      condition     = split(":", var.source_db_instance_arn)[3] != local.dr_region
      error_message = "The DR region must differ from the source instance's region: the replicated backups must survive the loss of the primary region."
    }
  }
}
