locals {
  # Everything the backend reads from its environment (backend/src/config.ts), as Terraform knows it.
  backend_env = {
    CLOUDSMITH_MODE                   = "distributed"
    CLOUDSMITH_BUS                    = "kafka"
    CLOUDSMITH_STORE                  = "dynamodb"
    CLOUDSMITH_ARTIFACTS              = "s3"
    CLOUDSMITH_BUILDER                = "local"
    CLOUDSMITH_RUNTIME                = "ecs"
    PORT                              = tostring(local.app_port)
    HOST                              = "0.0.0.0"
    GITHUB_API_URL                    = var.github_api_url
    CLOUDSMITH_PUBLIC_URL_TEMPLATE    = "https://{app}.${local.apps_domain}"
    KAFKA_BROKERS                     = aws_msk_cluster.main.bootstrap_brokers
    KAFKA_PARTITIONS                  = tostring(var.kafka_partitions)
    KAFKA_REPLICATION_FACTOR          = "2"
    AWS_REGION                        = var.region
    CLOUDSMITH_S3_BUCKET              = aws_s3_bucket.artifacts.bucket
    CLOUDSMITH_DYNAMODB_PREFIX        = local.table_prefix
    CLOUDSMITH_ECS_CLUSTER            = aws_ecs_cluster.main.name
    CLOUDSMITH_ECS_SUBNETS            = join(",", aws_subnet.private[*].id)
    CLOUDSMITH_ECS_SECURITY_GROUPS    = aws_security_group.apps.id
    CLOUDSMITH_ALB_LISTENER_ARN       = aws_lb_listener.https.arn
    CLOUDSMITH_VPC_ID                 = aws_vpc.main.id
    CLOUDSMITH_ECS_EXECUTION_ROLE_ARN = aws_iam_role.task_execution.arn
    CLOUDSMITH_ECS_TASK_ROLE_ARN      = aws_iam_role.app_task.arn
    CLOUDSMITH_ECS_RUNNER_IMAGE       = var.runner_image
    CLOUDSMITH_ECS_LOG_GROUP          = aws_cloudwatch_log_group.apps.name
    CLOUDSMITH_ECS_CPU                = tostring(var.app_cpu)
    CLOUDSMITH_ECS_MEMORY             = tostring(var.app_memory)
    CLOUDSMITH_ECS_MIN_TASKS          = tostring(var.app_min_tasks)
    CLOUDSMITH_ECS_MAX_TASKS          = tostring(var.app_max_tasks)
    CLOUDSMITH_ECS_APP_DOMAIN         = local.apps_domain
    CLOUDSMITH_ECR_APP_REPOSITORY     = aws_ecr_repository.apps.name
    CLOUDSMITH_ECS_CAPACITY           = local.capacity_providers[var.app_capacity]
    CLOUDSMITH_ECS_APP_CAPACITY       = join(",", [for app, c in var.app_capacity_overrides : "${app}=${local.capacity_providers[c]}"])
    # One owner per release: the S3 upload event starts the Lambda, which releases; Docksage stands down for it.
    CLOUDSMITH_RELEASE_OWNER = "lambda"
  }
  capacity_providers = { FARGATE = "FARGATE", FARGATE_SPOT = "FARGATE_SPOT", EC2 = aws_ecs_capacity_provider.ec2.name }
}

resource "aws_ecs_task_definition" "service" {
  for_each                 = var.services
  family                   = "${var.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(each.value.cpu)
  memory                   = tostring(each.value.memory)
  execution_role_arn       = aws_iam_role.task_execution.arn
  task_role_arn            = aws_iam_role.platform_task.arn
  container_definitions = jsonencode([{
    name         = each.key
    image        = var.platform_image
    essential    = true
    command      = ["--service", each.key]
    portMappings = each.key == "api" ? [{ containerPort = local.app_port, protocol = "tcp" }] : []
    environment  = [for k, v in local.backend_env : { name = k, value = v }]
    secrets      = [{ name = "CLOUDSMITH_SECRET_KEY", valueFrom = aws_secretsmanager_secret.platform_key.arn }]
    # Builds and in-flight work get time to finish or hand back their events (graceful shutdown).
    stopTimeout = 120
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.services[each.key].name
        "awslogs-region"        = var.region
        "awslogs-stream-prefix" = each.key
      }
    }
  }])
}

resource "aws_ecs_service" "service" {
  for_each        = var.services
  name            = each.key
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.service[each.key].arn
  desired_count   = each.value.min_tasks
  # The API stays on on-demand capacity; stage workers tolerate Spot reclaims (events are redelivered).
  capacity_provider_strategy {
    capacity_provider = "FARGATE"
    base              = 1
    weight            = 1
  }
  capacity_provider_strategy {
    capacity_provider = "FARGATE_SPOT"
    weight            = each.key == "api" ? 0 : var.spot_weight
  }
  network_configuration {
    subnets          = aws_subnet.private[*].id
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  dynamic "load_balancer" {
    for_each = each.key == "api" ? [aws_lb_target_group.api.arn] : []
    content {
      target_group_arn = load_balancer.value
      container_name   = each.key
      container_port   = local.app_port
    }
  }
  health_check_grace_period_seconds = each.key == "api" ? 30 : null
  propagate_tags                    = "SERVICE"
  lifecycle {
    # Autoscaling owns the running count after creation.
    ignore_changes = [desired_count]
  }
  depends_on = [aws_lb_listener_rule.api, aws_ecs_cluster_capacity_providers.main]
}

resource "aws_appautoscaling_target" "service" {
  for_each           = var.services
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.service[each.key].name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = each.value.min_tasks
  max_capacity       = each.value.max_tasks
}

resource "aws_appautoscaling_policy" "service_cpu" {
  for_each           = var.services
  name               = "${var.name}-${each.key}-cpu"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.service[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.service[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.service[each.key].scalable_dimension
  target_tracking_scaling_policy_configuration {
    target_value       = var.service_cpu_target
    scale_in_cooldown  = 120
    scale_out_cooldown = 30
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

resource "aws_appautoscaling_policy" "service_memory" {
  for_each           = var.services
  name               = "${var.name}-${each.key}-memory"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.service[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.service[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.service[each.key].scalable_dimension
  target_tracking_scaling_policy_configuration {
    target_value       = var.service_memory_target
    scale_in_cooldown  = 120
    scale_out_cooldown = 30
    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageMemoryUtilization"
    }
  }
}

resource "aws_lambda_function" "artifact_uploaded" {
  #checkov:skip=CKV_AWS_272:the zip is built from this repo by the deployer (esbuild), and no AWS Signer profile exists to sign it
  #checkov:skip=CKV_AWS_173:no secret is in the environment (the platform key is read from Secrets Manager); the AWS managed key encrypts it at rest
  function_name    = "${var.name}-artifact-uploaded"
  role             = aws_iam_role.lambda.arn
  runtime          = "nodejs20.x"
  handler          = "artifact-uploaded.handler"
  filename         = var.lambda_package
  source_code_hash = filebase64sha256(var.lambda_package)
  timeout          = var.lambda_timeout_seconds
  memory_size      = var.lambda_memory_mb
  ephemeral_storage {
    size = var.lambda_ephemeral_storage_mb
  }
  # Bounds how many releases run at once against ECS and the registry; throttled S3 events are retried by S3.
  reserved_concurrent_executions = var.lambda_reserved_concurrency
  # An event that still fails after Lambda's own retries is kept here instead of being dropped.
  dead_letter_config {
    target_arn = aws_sqs_queue.lambda_dlq.arn
  }
  tracing_config {
    mode = "Active"
  }
  # In the VPC: it reaches MSK (log fan-out) and the AWS APIs through the NAT gateway and the gateway endpoints.
  vpc_config {
    subnet_ids         = aws_subnet.private[*].id
    security_group_ids = [aws_security_group.tasks.id]
  }
  environment {
    # AWS_REGION is reserved: Lambda sets it itself.
    # The platform key stays in Secrets Manager: the function reads it at cold start (compose/lambda.ts), so it is
    # not in plain text for everyone allowed lambda:GetFunctionConfiguration.
    variables = merge(
      { for k, v in local.backend_env : k => v if k != "AWS_REGION" },
      { CLOUDSMITH_SECRET_KEY_ARN = aws_secretsmanager_secret.platform_key.arn },
    )
  }
  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.lambda.name
  }
  depends_on = [aws_iam_role_policy.lambda_runtime]
}

resource "aws_sqs_queue" "lambda_dlq" {
  name                      = "${var.name}-artifact-uploaded-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = true
}

resource "aws_lambda_permission" "s3_invoke" {
  statement_id   = "AllowArtifactBucket"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.artifact_uploaded.function_name
  principal      = "s3.amazonaws.com"
  source_arn     = aws_s3_bucket.artifacts.arn
  source_account = local.account_id
}

resource "aws_s3_bucket_notification" "artifact_uploaded" {
  bucket = aws_s3_bucket.artifacts.id
  lambda_function {
    lambda_function_arn = aws_lambda_function.artifact_uploaded.arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = "artifacts/"
    filter_suffix       = ".tar.gz"
  }
  depends_on = [aws_lambda_permission.s3_invoke]
}
