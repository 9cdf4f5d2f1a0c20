# Buckets for uploads (course documents), artifacts (processing results) and logs. Every
# bucket: public access blocked, owner-enforced objects, versioning, SSE-KMS with our key,
# a policy denying anything but TLS, and lifecycle rules.

data "aws_caller_identity" "current" {}

locals {
  buckets = {
    uploads   = "${var.name_prefix}-uploads-${data.aws_caller_identity.current.account_id}"
    artifacts = "${var.name_prefix}-artifacts-${data.aws_caller_identity.current.account_id}"
    logs      = "${var.name_prefix}-logs-${data.aws_caller_identity.current.account_id}"
  }
}

resource "aws_s3_bucket" "main" {
  #checkov:skip=CKV_AWS_144:Cross-region replication is a disaster-recovery decision not taken for this stack; versioning and backups cover deletion.
  #checkov:skip=CKV2_AWS_62:No consumer of S3 event notifications exists yet.
  #checkov:skip=CKV_AWS_18:Server access logs cannot be delivered to an SSE-KMS bucket; object-level audit belongs to the account CloudTrail (data events), outside this stack.
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
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

data "aws_iam_policy_document" "tls_only" {
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
}

resource "aws_s3_bucket_policy" "tls_only" {
  for_each = aws_s3_bucket.main
  bucket   = each.value.id
  policy   = data.aws_iam_policy_document.tls_only[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.main]
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

  # Logs age out: infrequent access after a month, gone after the retention period.
  dynamic "rule" {
    for_each = each.key == "logs" ? [1] : []

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
