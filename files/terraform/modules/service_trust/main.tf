# The trust policy of a role that one AWS service assumes on this account's behalf: the
# one place that writes it, so every service role carries the confused-deputy guard
# (aws:SourceAccount, and aws:SourceArn where the caller names the resources).

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = [var.service]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [var.account_id]
    }

    dynamic "condition" {
      for_each = length(var.source_arns) > 0 ? [var.source_arns] : []
      content {
        test     = "StringEquals"
        variable = "aws:SourceArn"
        values   = condition.value
      }
    }
  }
}
