output "bucket_names" {
  description = "Bucket names by purpose (uploads, artifacts, logs)."
  value       = { for key, bucket in aws_s3_bucket.main : key => bucket.bucket }
}

output "bucket_arns" {
  description = "Bucket ARNs by purpose (uploads, artifacts, logs)."
  value       = { for key, bucket in aws_s3_bucket.main : key => bucket.arn }
}
