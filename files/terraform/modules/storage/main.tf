# Buckets for uploads (course documents), artifacts (processing results), the stack's
# CloudTrail log files (trail, where the stack has a trail) and the server access logs of the other three (logs). Every
# bucket: public access blocked, owner-enforced objects, versioning, default encryption, a
# policy denying anything but TLS, and lifecycle rules.
#
# Encryption: SSE-KMS with the stack's key everywhere except the access-log target. S3 log
# delivery cannot write into a bucket whose default encryption is SSE-KMS (AWS: "Default
# server-side encryption with AWS KMS keys (SSE-KMS) is not supported for server access
# logging destination buckets"), so the logs bucket uses SSE-S3 (AES-256, keys managed by
# S3). It holds request metadata only, never an object's content.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  buckets = merge(
    {
      uploads   = "${var.name_prefix}-uploads-${local.account_id}"
      artifacts = "${var.name_prefix}-artifacts-${local.account_id}"
      logs      = "${var.name_prefix}-logs-${local.account_id}"
    },
    var.cloudtrail_trail_name == "" ? {} : { trail = "${var.name_prefix}-trail-${local.account_id}" },
  )
  # The bucket that receives the server access logs, and the buckets that send them.
  access_log_target  = "logs"
  access_log_sources = [for key in keys(local.buckets) : key if key != local.access_log_target]
  trail_arn          = "arn:${local.partition}:cloudtrail:${data.aws_region.current.name}:${local.account_id}:trail/${var.cloudtrail_trail_name}"
  trail_prefix       = "AWSLogs/${local.account_id}/"
}

resource "aws_s3_bucket" "main" {
  #checkov:skip=CKV_AWS_144:Disaster recovery replicates the database's backups (modules/dr_backups); bucket replication is not part of it yet, versioning covers deletion.
  #checkov:skip=CKV2_AWS_62:No consumer of S3 event notifications exists yet.
  #checkov:skip=CKV_AWS_18:Every bucket but the access-log target logs to it (aws_s3_bucket_logging.to_logs); the target does not log into itself.
  #checkov:skip=CKV_AWS_145:The access-log target cannot use SSE-KMS (S3 log delivery does not support it); every other bucket does (aws_s3_bucket_server_side_encryption_configuration.main).
  for_each      = local.buckets
  bucket        = each.value
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { Name = each.value, Purpose = each.key })
}

resource "aws_s3_bucket_public_access_block" "main" {
  for_each                = aws_s3_bucket.main
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "main" {
  for_each = aws_s3_bucket.main
  bucket   = each.value.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "main" {
  for_each = aws_s3_bucket.main
  bucket   = each.value.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "main" {
  for_each = aws_s3_bucket.main
  bucket   = each.value.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = each.key == local.access_log_target ? "AES256" : "aws:kms"
      kms_master_key_id = each.key == local.access_log_target ? null : var.kms_key_arn
    }
    bucket_key_enabled = each.key != local.access_log_target
  }
}

data "aws_iam_policy_document" "bucket" {
  for_each = aws_s3_bucket.main

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value.arn, "${each.value.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "DenyOutdatedTls"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value.arn, "${each.value.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "NumericLessThan"
      variable = "s3:TlsVersion"
      values   = ["1.2"]
    }
  }

  # The access-log target: S3 log delivery writes the other buckets' server access logs,
  # each under its bucket's prefix, for this account's buckets only.
  dynamic "statement" {
    for_each = each.key == local.access_log_target ? [1] : []

    content {
      sid       = "S3ServerAccessLogDelivery"
      actions   = ["s3:PutObject"]
      resources = ["${each.value.arn}/*"]

      principals {
        type        = "Service"
        identifiers = ["logging.s3.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }

      condition {
        test     = "ArnLike"
        variable = "aws:SourceArn"
        values   = [for key in local.access_log_sources : aws_s3_bucket.main[key].arn]
      }
    }
  }

  # The trail bucket: CloudTrail checks the bucket's ACL and writes the log files of the
  # stack's trail, and only of it.
  dynamic "statement" {
    for_each = each.key == "trail" ? [1] : []

    content {
      sid       = "CloudTrailAclCheck"
      actions   = ["s3:GetBucketAcl"]
      resources = [each.value.arn]

      principals {
        type        = "Service"
        identifiers = ["cloudtrail.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceArn"
        values   = [local.trail_arn]
      }
    }
  }

  dynamic "statement" {
    for_each = each.key == "trail" ? [1] : []

    content {
      sid       = "CloudTrailWrite"
      actions   = ["s3:PutObject"]
      resources = ["${each.value.arn}/${local.trail_prefix}*"]

      principals {
        type        = "Service"
        identifiers = ["cloudtrail.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceArn"
        values   = [local.trail_arn]
      }

      condition {
        test     = "StringEquals"
        variable = "s3:x-amz-acl"
        values   = ["bucket-owner-full-control"]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "main" {
  for_each = aws_s3_bucket.main
  bucket   = each.value.id
  policy   = data.aws_iam_policy_document.bucket[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.main]
}

# The policies were TLS-only before they admitted log delivery and CloudTrail.
moved {
  from = aws_s3_bucket_policy.tls_only
  to   = aws_s3_bucket_policy.main
}

# Server access logs of every bucket but the target, into the target under the bucket's
# purpose (uploads/, artifacts/, trail/). The target's policy must exist first: S3 checks
# that log delivery may write there.
resource "aws_s3_bucket_logging" "to_logs" {
  for_each      = toset(local.access_log_sources)
  bucket        = aws_s3_bucket.main[each.key].id
  target_bucket = aws_s3_bucket.main[local.access_log_target].id
  target_prefix = "${each.key}/"

  depends_on = [aws_s3_bucket_policy.main]
}

resource "aws_s3_bucket_lifecycle_configuration" "main" {
  for_each = aws_s3_bucket.main
  bucket   = each.value.id

  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"

    filter {}

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
  }

  # Logs (access logs and trail log files) age out: infrequent access after a month, gone
  # after the retention period.
  dynamic "rule" {
    for_each = contains([local.access_log_target, "trail"], each.key) ? [1] : []

    content {
      id     = "logs-retention"
      status = "Enabled"

      filter {}

      transition {
        days          = var.log_transition_days
        storage_class = "STANDARD_IA"
      }

      expiration {
        days = var.log_expiration_days
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.main]
}
