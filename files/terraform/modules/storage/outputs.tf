output "bucket_names" {
  description = "Bucket names by purpose (uploads, artifacts, trail, logs)."
  value       = { for key, bucket in aws_s3_bucket.main : key => bucket.bucket }
}

output "bucket_arns" {
  description = "Bucket ARNs by purpose (uploads, artifacts, trail, logs)."
  value       = { for key, bucket in aws_s3_bucket.main : key => bucket.arn }
}

output "trail_bucket_name" {
  description = "Bucket of the CloudTrail log files, once its policy admits the trail (CloudTrail checks it when the trail is created); null without a trail."
  value       = var.cloudtrail_trail_name == "" ? null : aws_s3_bucket_policy.main["trail"].bucket
}

output "access_log_bucket_name" {
  description = "Bucket that receives the server access logs of the other buckets."
  value       = aws_s3_bucket.main["logs"].bucket
}
