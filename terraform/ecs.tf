resource "aws_ecs_cluster" "main" {
  name = var.name
  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

# Spot for the bulk, one on-demand task as the base so a Spot reclaim never takes a service to zero.
resource "aws_ecs_cluster_capacity_providers" "main" {
  cluster_name       = aws_ecs_cluster.main.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]
  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    base              = 1
    weight            = 1
  }
  default_capacity_provider_strategy {
    capacity_provider = "FARGATE_SPOT"
    weight            = var.spot_weight
  }
}

resource "aws_ecr_repository" "apps" {
  name                 = "${var.name}/apps"
  image_tag_mutability = "MUTABLE"
  force_delete         = false
  image_scanning_configuration {
    scan_on_push = true
  }
  encryption_configuration {
    encryption_type = "AES256"
  }
}

resource "aws_ecr_repository" "platform" {
  name                 = "${var.name}/platform"
  image_tag_mutability = "IMMUTABLE"
  image_scanning_configuration {
    scan_on_push = true
  }
  encryption_configuration {
    encryption_type = "AES256"
  }
}

resource "aws_ecr_lifecycle_policy" "apps" {
  repository = aws_ecr_repository.apps.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the last 500 app images (rollback targets); older ones expire"
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = 500 }
      action       = { type = "expire" }
    }]
  })
}

resource "aws_cloudwatch_log_group" "services" {
  for_each          = var.services
  name              = "/${var.name}/services/${each.key}"
  retention_in_days = var.log_retention_days
}

# Deployed apps' stdout/stderr (awslogs driver, stream prefix = app name); EcsRuntime.logs reads it.
resource "aws_cloudwatch_log_group" "apps" {
  name              = "/${var.name}/apps"
  retention_in_days = var.log_retention_days
}

resource "aws_cloudwatch_log_group" "lambda" {
  name              = "/aws/lambda/${var.name}-artifact-uploaded"
  retention_in_days = var.log_retention_days
}
