output "alarm_topic_arn" {
  description = "SNS topic receiving every alarm."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_names" {
  description = "Names of the CloudWatch alarms (empty when alarms are disabled)."
  value       = [for alarm in aws_cloudwatch_metric_alarm.main : alarm.alarm_name]
}
