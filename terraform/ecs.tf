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
  capacity_providers = ["FARGATE", "FARGATE_SPOT", aws_ecs_capacity_provider.ec2.name]
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
  #checkov:skip=CKV_AWS_51:a redeploy of the same commit re-pushes its tag; task definitions pin the digest, so a moved tag never changes what runs
  name                 = "${var.name}/apps"
  image_tag_mutability = "MUTABLE"
  force_delete         = false
  image_scanning_configuration {
    scan_on_push = true
  }
  # KMS with the AWS managed key (aws/ecr): pulls and pushes need no key policy of ours.
  encryption_configuration {
    encryption_type = "KMS"
  }
}

resource "aws_ecr_repository" "platform" {
  name                 = "${var.name}/platform"
  image_tag_mutability = "IMMUTABLE"
  image_scanning_configuration {
    scan_on_push = true
  }
  # KMS with the AWS managed key (aws/ecr): pulls and pushes need no key policy of ours.
  encryption_configuration {
    encryption_type = "KMS"
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
  kms_key_id        = aws_kms_key.logs.arn
}

# Deployed apps' stdout/stderr (awslogs driver, stream prefix = app name); EcsRuntime.logs reads it.
resource "aws_cloudwatch_log_group" "apps" {
  name              = "/${var.name}/apps"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn
}

resource "aws_cloudwatch_log_group" "lambda" {
  name              = "/aws/lambda/${var.name}-artifact-uploaded"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn
}

# ---- EC2 capacity for apps (CLOUDSMITH_ECS_CAPACITY=EC2 or a per-app override): an Auto Scaling group of
# ECS-optimized instances that ECS managed scaling grows and shrinks with the tasks placed on it.

data "aws_ssm_parameter" "ecs_ami" {
  name = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
}

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "ecs_instance" {
  name_prefix        = "${var.name}-ecs-instance-"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
}

# What the ECS agent needs, scoped to this cluster (instead of the broad AmazonEC2ContainerServiceforEC2Role).
# Image pulls and logs go through the task execution role, so the instance needs neither.
data "aws_iam_policy_document" "ecs_instance" {
  statement {
    sid       = "DiscoverEndpoint"
    actions   = ["ecs:DiscoverPollEndpoint"]
    resources = ["*"]
  }
  statement {
    sid = "AgentOfThisCluster"
    actions = [
      "ecs:RegisterContainerInstance", "ecs:DeregisterContainerInstance", "ecs:Poll", "ecs:StartTelemetrySession",
      "ecs:SubmitContainerStateChange", "ecs:SubmitTaskStateChange", "ecs:SubmitAttachmentStateChanges",
      "ecs:UpdateContainerInstancesState", "ecs:PutSystemLogEvents",
    ]
    resources = [aws_ecs_cluster.main.arn, local.ecs_container_instance_arn_pattern]
  }
}

resource "aws_iam_role_policy" "ecs_instance" {
  role   = aws_iam_role.ecs_instance.id
  policy = data.aws_iam_policy_document.ecs_instance.json
}

resource "aws_iam_instance_profile" "ecs_instance" {
  name_prefix = "${var.name}-ecs-instance-"
  role        = aws_iam_role.ecs_instance.name
}

resource "aws_launch_template" "ecs" {
  name_prefix   = "${var.name}-ecs-"
  image_id      = data.aws_ssm_parameter.ecs_ami.value
  instance_type = var.ec2_instance_type
  iam_instance_profile {
    arn = aws_iam_instance_profile.ecs_instance.arn
  }
  # Apps run in awsvpc mode with their own ENI and security group; the instance itself takes no traffic.
  vpc_security_group_ids = [aws_security_group.ecs_instances.id]
  metadata_options {
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }
  user_data = base64encode("#!/bin/bash\necho ECS_CLUSTER=${aws_ecs_cluster.main.name} >> /etc/ecs/ecs.config\n")
}

resource "aws_autoscaling_group" "ecs" {
  name_prefix           = "${var.name}-ecs-"
  vpc_zone_identifier   = aws_subnet.private[*].id
  min_size              = 0
  max_size              = var.ec2_max_instances
  protect_from_scale_in = true
  launch_template {
    id      = aws_launch_template.ecs.id
    version = "$Latest"
  }
  tag {
    key                 = "AmazonECSManaged"
    value               = "true"
    propagate_at_launch = true
  }
  lifecycle {
    # Managed scaling owns the desired capacity.
    ignore_changes = [desired_capacity]
  }
}

resource "aws_ecs_capacity_provider" "ec2" {
  name = "${var.name}-ec2"
  auto_scaling_group_provider {
    auto_scaling_group_arn         = aws_autoscaling_group.ecs.arn
    managed_termination_protection = "ENABLED"
    managed_scaling {
      status                    = "ENABLED"
      target_capacity           = 90
      minimum_scaling_step_size = 1
      maximum_scaling_step_size = 2
    }
  }
}
