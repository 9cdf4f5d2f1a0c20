# SSM-managed bastion: the operator's (or AWX's) only way into the VPC. It accepts no
# inbound connection at all: the SSM agent dials out to Systems Manager over HTTPS and
# `aws ssm start-session --document-name AWS-StartPortForwardingSessionToRemoteHost`
# forwards a port on the operator's 127.0.0.1 to the database through it. Access is an
# IAM decision (ssm:StartSession on this instance), logged in CloudTrail; there is no SSH
# key to distribute and no port open to any network.

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}

# Amazon Linux 2023 (arm64) ships the SSM agent. The AMI is read once at creation and then
# ignored (lifecycle below), so a new AMI release never replaces the instance under a
# running session; patch it in place with Patch Manager or replace it on purpose.
data "aws_ssm_parameter" "ami" {
  name = var.ami_ssm_parameter
}

resource "aws_security_group" "bastion" {
  name        = "${var.name_prefix}-bastion-sg"
  description = "SSM bastion: no inbound rules; egress to SSM over HTTPS and to PostgreSQL only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name_prefix}-bastion-sg" })
}

# No aws_vpc_security_group_ingress_rule exists for this group, on purpose.

resource "aws_vpc_security_group_egress_rule" "https" {
  for_each          = toset(var.https_egress_cidr_blocks)
  security_group_id = aws_security_group.bastion.id
  description       = "HTTPS to the Systems Manager endpoints (ssm, ssmmessages, ec2messages)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
  tags              = var.tags
}

resource "aws_vpc_security_group_egress_rule" "database" {
  security_group_id            = aws_security_group.bastion.id
  description                  = "PostgreSQL to the database"
  ip_protocol                  = "tcp"
  from_port                    = var.database_port
  to_port                      = var.database_port
  referenced_security_group_id = var.database_security_group_id
  tags                         = var.tags
}

module "trust" {
  source     = "../service_trust"
  service    = "ec2.amazonaws.com"
  account_id = data.aws_caller_identity.current.account_id
}

resource "aws_iam_role" "bastion" {
  name               = "${var.name_prefix}-bastion"
  description        = "SSM bastion: Systems Manager core only"
  assume_role_policy = module.trust.json
  tags               = var.tags
}

# The only policy: what the SSM agent needs to register and carry sessions.
resource "aws_iam_role_policy_attachment" "ssm_core" {
  role       = aws_iam_role.bastion.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "bastion" {
  name = "${var.name_prefix}-bastion"
  role = aws_iam_role.bastion.name
  tags = var.tags
}

resource "aws_instance" "bastion" {
  #checkov:skip=CKV_AWS_126:Detailed monitoring is not worth its cost on a port-forwarding bastion; basic metrics stay on.
  ami                         = data.aws_ssm_parameter.ami.insecure_value
  instance_type               = var.instance_type
  subnet_id                   = var.subnet_id
  vpc_security_group_ids      = [aws_security_group.bastion.id]
  iam_instance_profile        = aws_iam_instance_profile.bastion.name
  associate_public_ip_address = false
  ebs_optimized               = true

  # IMDSv2 only, one hop: a process in a container on the instance cannot reach it.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_size
    encrypted             = true
    kms_key_id            = var.kms_key_arn
    delete_on_termination = true
    tags                  = merge(var.tags, { Name = "${var.name_prefix}-bastion-root" })
  }

  tags = merge(var.tags, { Name = "${var.name_prefix}-bastion", Role = "ssm-bastion" })

  lifecycle {
    ignore_changes = [ami]
  }
}
