output "vpc_id" {
  description = "Id of the VPC."
  value       = aws_vpc.main.id
}

output "vpc_cidr" {
  description = "CIDR block of the VPC."
  value       = aws_vpc.main.cidr_block
}

output "public_subnet_ids" {
  description = "Public subnets (NAT gateways only)."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Private subnets with egress through NAT (ECS tasks, ElastiCache)."
  value       = aws_subnet.private[*].id
}

output "database_subnet_ids" {
  description = "Isolated database subnets without any route to the internet."
  value       = aws_subnet.database[*].id
}

output "nat_gateway_ids" {
  description = "NAT gateways: one per AZ in production, one shared in development."
  value       = aws_nat_gateway.main[*].id
}

output "service_security_group_id" {
  description = "Security group of the ECS service: the only application client of the database and the cache."
  value       = aws_security_group.service.id
}
