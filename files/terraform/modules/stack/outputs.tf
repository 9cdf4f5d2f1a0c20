# Both roots publish these two maps (outputs "stack" and "stack_sensitive"; production adds
# its DR keys to "stack"); roles/terraform_stack turns them into the facts
# terraform_stack_outputs and terraform_stack_sensitive_outputs and hands them to the
# database play via add_host.
#
# Two database endpoints: database_address is the instance itself, what the database play,
# the rotation and the private path (bastion) use; application_database_host is where the
# application connects, RDS Proxy where it runs (production), else the instance.

output "values" {
  description = "Everything the playbooks need about the stack, by name (no secret values: secrets are referenced by ARN)."
  value = {
    aws_region                 = var.aws_region
    environment                = var.environment
    name_prefix                = var.name_prefix
    database_address           = module.database.address
    database_instance_arn      = module.database.instance_arn
    application_database_host  = module.database.application_address
    database_proxy_endpoint    = module.database.proxy_endpoint
    database_port              = module.database.port
    database_name              = module.database.database_name
    database_master_secret_arn = module.database.master_user_secret_arn
    database_security_group_id = module.database.security_group_id
    application_secret_name    = module.database.application_secret_name
    application_secret_arn     = module.database.application_secret_arn
    service_security_group_id  = module.network.service_security_group_id
    cache_security_group_id    = module.cache.security_group_id
    cache_endpoint             = module.cache.primary_endpoint_address
    cache_port                 = module.cache.port
    cache_auth_secret_arn      = module.cache.auth_token_secret_arn
    bucket_names               = module.storage.bucket_names
    kms_key_arn                = module.keys.key_arn
    cloudtrail_arn             = var.cloudtrail_enabled ? module.audit[0].trail_arn : null
    alarm_topic_arn            = module.monitoring.alarm_topic_arn
    ecs_cluster_name           = module.compute.cluster_name
    vpc_id                     = module.network.vpc_id
    bastion_instance_id        = module.bastion.instance_id
    bastion_security_group_id  = module.bastion.security_group_id
  }
}

output "sensitive_values" {
  description = "Values kept out of logs: the master user name (its password exists only in the RDS-managed secret)."
  sensitive   = true
  value = {
    database_master_username = module.database.master_username
  }
}
