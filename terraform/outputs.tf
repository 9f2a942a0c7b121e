output "api_url" {
  description = "Base URL of the CloudSmith API (set it as cloudsmith.apiUrl / CLOUDSMITH_API_URL)."
  value       = local.api_url
}

output "apps_url_template" {
  description = "Where deployed apps are served."
  value       = "https://{app}.${local.apps_domain}"
}

output "alb_dns_name" {
  description = "DNS name of the shared ALB (the Route 53 records alias it)."
  value       = aws_lb.main.dns_name
}

output "alb_listener_arn" {
  description = "HTTPS listener app rules are added to (CLOUDSMITH_ALB_LISTENER_ARN)."
  value       = aws_lb_listener.https.arn
}

output "vpc_id" {
  description = "VPC of the platform (CLOUDSMITH_VPC_ID)."
  value       = aws_vpc.main.id
}

output "private_subnet_ids" {
  description = "Private subnets tasks run in (CLOUDSMITH_ECS_SUBNETS)."
  value       = aws_subnet.private[*].id
}

output "public_subnet_ids" {
  description = "Public subnets of the ALB and NAT gateway."
  value       = aws_subnet.public[*].id
}

output "tasks_security_group_id" {
  description = "Security group of the backend services and the Lambda (the one MSK admits)."
  value       = aws_security_group.tasks.id
}

output "apps_security_group_id" {
  description = "Security group of deployed apps (CLOUDSMITH_ECS_SECURITY_GROUPS): ALB in, no MSK."
  value       = aws_security_group.apps.id
}

output "ec2_capacity_provider_name" {
  description = "The EC2 Auto Scaling group capacity provider (a value of CLOUDSMITH_ECS_CAPACITY / CLOUDSMITH_ECS_APP_CAPACITY)."
  value       = aws_ecs_capacity_provider.ec2.name
}

output "ecs_cluster_name" {
  description = "ECS cluster (CLOUDSMITH_ECS_CLUSTER)."
  value       = aws_ecs_cluster.main.name
}

output "jenkins_agent_policy_arn" {
  description = "IAM policy for the Jenkins agents' role: artifact uploads and build caches (attached to jenkins_agent_role_name when set)."
  value       = aws_iam_policy.jenkins_agent.arn
}

output "artifact_bucket" {
  description = "S3 bucket of artifacts and sources (CLOUDSMITH_S3_BUCKET)."
  value       = aws_s3_bucket.artifacts.bucket
}

output "dynamodb_table_prefix" {
  description = "DynamoDB table prefix (CLOUDSMITH_DYNAMODB_PREFIX)."
  value       = local.table_prefix
}

output "dynamodb_tables" {
  description = "The DynamoDB tables, by role."
  value       = { for t in local.dynamodb_tables : trimprefix(t.name, local.table_prefix) => t.name }
}

output "ecr_apps_repository_url" {
  description = "ECR repository for app images (the docker builder's CLOUDSMITH_REGISTRY/<app>)."
  value       = aws_ecr_repository.apps.repository_url
}

output "ecr_platform_repository_url" {
  description = "ECR repository for the backend image (platform_image)."
  value       = aws_ecr_repository.platform.repository_url
}

output "kafka_bootstrap_brokers" {
  description = "MSK bootstrap brokers (KAFKA_BROKERS)."
  value       = aws_msk_cluster.main.bootstrap_brokers
}

output "task_execution_role_arn" {
  description = "ECS task execution role (CLOUDSMITH_ECS_EXECUTION_ROLE_ARN)."
  value       = aws_iam_role.task_execution.arn
}

output "app_task_role_arn" {
  description = "Role deployed apps run as (CLOUDSMITH_ECS_TASK_ROLE_ARN)."
  value       = aws_iam_role.app_task.arn
}

output "app_log_group" {
  description = "CloudWatch log group of deployed apps (CLOUDSMITH_ECS_LOG_GROUP)."
  value       = aws_cloudwatch_log_group.apps.name
}

output "lambda_function_name" {
  description = "The artifact-uploaded Lambda."
  value       = aws_lambda_function.artifact_uploaded.function_name
}

output "platform_key_secret_arn" {
  description = "Secrets Manager secret holding CLOUDSMITH_SECRET_KEY."
  value       = aws_secretsmanager_secret.platform_key.arn
}

output "backend_env" {
  description = "Every environment variable the backend services get (CLOUDSMITH_SECRET_KEY excluded): run a backend elsewhere against this stack with it."
  value       = local.backend_env
}
