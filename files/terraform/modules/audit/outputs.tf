output "trail_arn" {
  description = "ARN of the stack's CloudTrail trail."
  value       = aws_cloudtrail.main.arn
}

output "log_group_name" {
  description = "CloudWatch log group that receives the trail's events."
  value       = aws_cloudwatch_log_group.trail.name
}
