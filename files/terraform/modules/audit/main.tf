# CloudTrail: the stack's management events (every API call that changes or reads the
# account's configuration, in every region) as log files with integrity validation,
# encrypted with the stack's key, in the stack's trail bucket (modules/storage), and as a
# CloudWatch Logs stream for alarms and searches.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  trail_arn = "arn:${data.aws_partition.current.partition}:cloudtrail:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:trail/${var.trail_name}"
}

resource "aws_cloudwatch_log_group" "trail" {
  name              = "/sensa/${var.name_prefix}/cloudtrail"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

module "trust" {
  source      = "../service_trust"
  service     = "cloudtrail.amazonaws.com"
  account_id  = data.aws_caller_identity.current.account_id
  source_arns = [local.trail_arn]
}

resource "aws_iam_role" "trail" {
  name               = "${var.name_prefix}-cloudtrail"
  description        = "CloudTrail: deliver the stack's trail to its CloudWatch log group"
  assume_role_policy = module.trust.json
  tags               = var.tags
}

data "aws_iam_policy_document" "deliver" {
  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.trail.arn}:log-stream:*"]
  }
}

resource "aws_iam_role_policy" "trail" {
  name   = "deliver-to-log-group"
  role   = aws_iam_role.trail.id
  policy = data.aws_iam_policy_document.deliver.json
}

resource "aws_cloudtrail" "main" {
  #checkov:skip=CKV_AWS_252:No subscriber to per-file delivery notifications exists; alarms read the CloudWatch Logs stream.
  name                          = var.trail_name
  s3_bucket_name                = var.bucket_name
  kms_key_id                    = var.kms_key_arn
  is_multi_region_trail         = true
  include_global_service_events = true
  enable_log_file_validation    = true
  enable_logging                = true
  cloud_watch_logs_group_arn    = "${aws_cloudwatch_log_group.trail.arn}:*"
  cloud_watch_logs_role_arn     = aws_iam_role.trail.arn
  tags                          = merge(var.tags, { Name = var.trail_name })

  event_selector {
    read_write_type           = "All"
    include_management_events = true
  }

  # CloudTrail checks at creation that it may deliver: the role's policy must exist (the
  # bucket policy comes first through var.bucket_name, see modules/storage's output).
  depends_on = [aws_iam_role_policy.trail]
}
