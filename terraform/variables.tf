variable "name" {
  description = "Name prefix of every resource (also the DynamoDB table prefix and the ECS cluster name)."
  type        = string
  default     = "cloudsmith"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name: lowercase letters, digits and hyphens, 2-21 characters, starting with a letter."
  }
}

variable "region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "us-east-1"
}

variable "tags" {
  description = "Extra tags applied to every resource."
  type        = map(string)
  default     = {}
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC; split into two public and two private /20 subnets."
  type        = string
  default     = "10.40.0.0/16"
}

variable "domain_name" {
  description = "Domain of the Route 53 hosted zone (e.g. example.com)."
  type        = string
}

variable "route53_zone_id" {
  description = "ID of the Route 53 hosted zone for domain_name."
  type        = string
}

variable "api_subdomain" {
  description = "The API is served at https://<api_subdomain>.<domain_name>."
  type        = string
  default     = "api"
}

variable "apps_subdomain" {
  description = "Apps are served at https://<app>.<apps_subdomain>.<domain_name> (wildcard record)."
  type        = string
  default     = "apps"
}

variable "certificate_arn" {
  description = "ACM certificate for the HTTPS listener; must cover <api_subdomain>.<domain_name> and *.<apps_subdomain>.<domain_name>."
  type        = string
}

variable "platform_image" {
  description = "Image of the CloudSmith backend (entrypoint: the backend; command: --service <name>)."
  type        = string
}

variable "runner_image" {
  description = "Image that runs tarball artifacts on Fargate (downloads CLOUDSMITH_ARTIFACT_KEY from S3, then runs the start command)."
  type        = string
}

variable "github_api_url" {
  description = "GitHub REST API base URL (GitHub Enterprise: https://<host>/api/v3)."
  type        = string
  default     = "https://api.github.com"
}

variable "services" {
  description = "Per backend service: task size and autoscaling bounds."
  type = map(object({
    cpu       = number
    memory    = number
    min_tasks = number
    max_tasks = number
  }))
  default = {
    api        = { cpu = 512, memory = 1024, min_tasks = 2, max_tasks = 6 }
    gitpulse   = { cpu = 256, memory = 512, min_tasks = 1, max_tasks = 4 }
    buildrelay = { cpu = 2048, memory = 4096, min_tasks = 1, max_tasks = 8 }
    docksage   = { cpu = 256, memory = 512, min_tasks = 1, max_tasks = 4 }
  }
  validation {
    condition     = alltrue([for k in ["api", "gitpulse", "buildrelay", "docksage"] : contains(keys(var.services), k)])
    error_message = "services must define api, gitpulse, buildrelay and docksage."
  }
}

variable "service_cpu_target" {
  description = "Target average CPU utilization (percent) for the backend services' autoscaling."
  type        = number
  default     = 60
}

variable "service_memory_target" {
  description = "Target average memory utilization (percent) for the backend services' autoscaling."
  type        = number
  default     = 75
}

variable "app_capacity" {
  description = "Default capacity of deployed apps (CLOUDSMITH_ECS_CAPACITY): FARGATE, FARGATE_SPOT or EC2 (the Auto Scaling group capacity provider)."
  type        = string
  default     = "FARGATE"
  validation {
    condition     = contains(["FARGATE", "FARGATE_SPOT", "EC2"], var.app_capacity)
    error_message = "app_capacity must be FARGATE, FARGATE_SPOT or EC2."
  }
}

variable "app_capacity_overrides" {
  description = "Per app name, its capacity instead of app_capacity (FARGATE, FARGATE_SPOT or EC2)."
  type        = map(string)
  default     = {}
  validation {
    condition     = alltrue([for c in values(var.app_capacity_overrides) : contains(["FARGATE", "FARGATE_SPOT", "EC2"], c)])
    error_message = "each override must be FARGATE, FARGATE_SPOT or EC2."
  }
}

variable "ec2_instance_type" {
  description = "Instance type of the EC2 capacity provider's Auto Scaling group."
  type        = string
  default     = "t3.medium"
}

variable "ec2_max_instances" {
  description = "Upper bound of the EC2 capacity provider's Auto Scaling group (managed scaling starts from zero)."
  type        = number
  default     = 4
}

variable "lambda_memory_mb" {
  description = "Memory of the artifact-uploaded Lambda, which sets its CPU share too (it gzips the image layer); artifacts stream through /tmp, so memory does not bound their size."
  type        = number
  default     = 2048
}

variable "lambda_ephemeral_storage_mb" {
  description = "/tmp of the artifact-uploaded Lambda: it holds one artifact and the image layer made of it (about as big) while it bakes the image."
  type        = number
  default     = 2048
  validation {
    condition     = var.lambda_ephemeral_storage_mb >= 512 && var.lambda_ephemeral_storage_mb <= 10240
    error_message = "Lambda ephemeral storage is 512 to 10240 MB."
  }
}

variable "app_cpu" {
  description = "CPU units of each deployed app's Fargate task (CLOUDSMITH_ECS_CPU)."
  type        = number
  default     = 256
}

variable "app_memory" {
  description = "Memory (MiB) of each deployed app's Fargate task (CLOUDSMITH_ECS_MEMORY)."
  type        = number
  default     = 512
}

variable "app_min_tasks" {
  description = "Minimum tasks per deployed app (CLOUDSMITH_ECS_MIN_TASKS)."
  type        = number
  default     = 1
}

variable "app_max_tasks" {
  description = "Maximum tasks per deployed app (CLOUDSMITH_ECS_MAX_TASKS)."
  type        = number
  default     = 4
}

variable "spot_weight" {
  description = "Weight of FARGATE_SPOT against FARGATE (weight 1, base 1) in the cluster's default capacity provider strategy."
  type        = number
  default     = 1
}

variable "kafka_version" {
  description = "Apache Kafka version of the MSK cluster."
  type        = string
  default     = "3.6.0"
}

variable "kafka_instance_type" {
  description = "MSK broker instance type."
  type        = string
  default     = "kafka.t3.small"
}

variable "kafka_volume_gb" {
  description = "EBS volume per MSK broker (GiB)."
  type        = number
  default     = 50
}

variable "kafka_partitions" {
  description = "Partitions per CloudSmith topic (KAFKA_PARTITIONS)."
  type        = number
  default     = 6
}

variable "artifact_retention_days" {
  description = "Days before artifacts and fetched sources expire from S3 (older releases can no longer be rolled back to)."
  type        = number
  default     = 90
}

variable "noncurrent_version_days" {
  description = "Days an overwritten or deleted artifact version is kept (bucket versioning)."
  type        = number
  default     = 14
}

variable "cache_retention_days" {
  description = "Days before a build cache entry (cache/ in the artifact bucket: Buildrelay's and Jenkins') expires; a build after that installs cold."
  type        = number
  default     = 14
  validation {
    condition     = var.cache_retention_days >= 1
    error_message = "A cache entry must live at least a day."
  }
}

variable "jenkins_agent_role_name" {
  description = "Name of the IAM role of the Jenkins agents that run jenkins/Jenkinsfile (JENKINS_ARTIFACT_BUCKET = this bucket); empty attaches the jenkins_agent policy to nothing."
  type        = string
  default     = ""
}

variable "log_retention_days" {
  description = "Retention, in days, of the CloudWatch logs (backend, apps, Lambda, MSK) and of the access-log bucket."
  type        = number
  default     = 365
  validation {
    condition     = var.log_retention_days >= 365
    error_message = "Logs are kept for at least a year (audit of deployments and access)."
  }
}

variable "lambda_package" {
  description = "Path of the artifact-uploaded Lambda zip (see README: esbuild bundle of backend/src/lambda/artifact-uploaded.ts)."
  type        = string
}

variable "lambda_reserved_concurrency" {
  description = "Concurrent runs the artifact-uploaded Lambda may have; S3 retries throttled events, then the DLQ keeps them."
  type        = number
  default     = 10
}

variable "lambda_timeout_seconds" {
  description = "Lambda timeout; an ECS rollout is awaited inside it, so keep it near the 900 s maximum."
  type        = number
  default     = 900
}
