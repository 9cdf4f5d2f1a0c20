variable "service" {
  description = "Service principal that assumes the role, e.g. ec2.amazonaws.com."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9.-]+\\.amazonaws\\.com$", var.service))
    error_message = "service must be an AWS service principal such as ec2.amazonaws.com."
  }
}

variable "account_id" {
  description = "Account the service must act for (aws:SourceAccount): the stack's own."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account id."
  }
}

variable "source_arns" {
  description = "Resources the service must act for (aws:SourceArn); empty: the account condition alone."
  type        = list(string)
  default     = []
}
