output "cluster_name" {
  description = "ECS cluster name (CloudWatch dimension ClusterName)."
  value       = aws_ecs_cluster.main.name
}

output "service_name" {
  description = "ECS service name (CloudWatch dimension ServiceName)."
  value       = aws_ecs_service.app.name
}

output "task_role_arn" {
  description = "IAM role of the application tasks."
  value       = aws_iam_role.task.arn
}

output "execution_role_arn" {
  description = "IAM role ECS uses to start the tasks."
  value       = aws_iam_role.execution.arn
}

output "log_group_name" {
  description = "CloudWatch log group of the application."
  value       = aws_cloudwatch_log_group.app.name
}
