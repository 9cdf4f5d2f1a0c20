terraform {
  required_version = ">= 1.6.0, < 2.0.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80.0, < 6.0.0"
    }
  }

  # Partial configuration: bucket, key, region and the lock (dynamodb_table, or
  # use_lockfile on Terraform >= 1.10) come from the inventory through
  # `-backend-config` (roles/terraform_stack). Nothing about the state is hard-coded.
  backend "s3" {
    encrypt = true
  }
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = local.tags
  }
}

# The disaster-recovery region: the automated backups are replicated there (../modules/dr_backups).
provider "aws" {
  alias  = "dr"
  region = var.dr_region

  default_tags {
    tags = local.tags
  }
}
