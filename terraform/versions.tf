terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.70"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = merge({ Project = "cloudsmith", Stack = var.name }, var.tags)
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  azs        = slice(data.aws_availability_zones.available.names, 0, 2)
  # Apps are served at https://<app>.<apps_domain>; the API at https://<api_subdomain>.<domain_name>.
  apps_domain = "${var.apps_subdomain}.${var.domain_name}"
  api_host    = "${var.api_subdomain}.${var.domain_name}"
  api_url     = "https://${local.api_host}"
  # Must equal CLOUDSMITH_DYNAMODB_PREFIX: DynamoStore derives its table names from it.
  table_prefix = "${var.name}-"
  app_port     = 8080
}
