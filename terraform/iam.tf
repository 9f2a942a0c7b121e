# Least privilege: every statement names its actions (no wildcards) and scopes its resources. Resource "*" appears
# only for actions AWS does not scope to a resource: ecr:GetAuthorizationToken, ecs:RegisterTaskDefinition,
# ecs:DeregisterTaskDefinition, ecs:Describe*/List* on task definitions, elasticloadbalancing:Describe*,
# application-autoscaling (no resource-level permissions), the ENI actions of a VPC Lambda and X-Ray's
# PutTraceSegments/PutTelemetryRecords. checkov's wildcard checks are skipped in place on the documents with them.

locals {
  ecs_service_arn_pattern            = "arn:${local.partition}:ecs:${var.region}:${local.account_id}:service/${var.name}/*"
  ecs_task_arn_pattern               = "arn:${local.partition}:ecs:${var.region}:${local.account_id}:task/${var.name}/*"
  ecs_container_instance_arn_pattern = "arn:${local.partition}:ecs:${var.region}:${local.account_id}:container-instance/${var.name}/*"
  app_target_groups                  = "arn:${local.partition}:elasticloadbalancing:${var.region}:${local.account_id}:targetgroup/cs-*/*"
  app_listener_rules                 = "arn:${local.partition}:elasticloadbalancing:${var.region}:${local.account_id}:listener-rule/app/${aws_lb.main.name}/*"
  app_ssm_parameters                 = "arn:${local.partition}:ssm:${var.region}:${local.account_id}:parameter/${var.name}/apps/*"
  # EcsRuntime names app task definition families cloudsmith-<app>.
  app_task_definitions = "arn:${local.partition}:ecs:${var.region}:${local.account_id}:task-definition/cloudsmith-*:*"
  # Target-tracking policies create their CloudWatch alarms under this name.
  app_scaling_alarms = "arn:${local.partition}:cloudwatch:${var.region}:${local.account_id}:alarm:TargetTracking-service/${var.name}/*"
  autoscaling_slr    = "arn:${local.partition}:iam::${local.account_id}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService"
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

# ---- task execution role: what ECS itself needs to start any task (backend services and deployed apps)

resource "aws_iam_role" "task_execution" {
  name_prefix        = "${var.name}-exec-"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

data "aws_iam_policy_document" "task_execution" {
  statement {
    sid       = "EcrToken"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
  statement {
    sid       = "PullImages"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]
    resources = [aws_ecr_repository.apps.arn, aws_ecr_repository.platform.arn]
  }
  statement {
    sid     = "WriteLogs"
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = concat(
      ["${aws_cloudwatch_log_group.apps.arn}:*"],
      [for g in aws_cloudwatch_log_group.services : "${g.arn}:*"],
    )
  }
  statement {
    sid       = "PlatformKey"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.platform_key.arn]
  }
  statement {
    sid       = "AppSecrets"
    actions   = ["ssm:GetParameters"]
    resources = [local.app_ssm_parameters]
  }
}

resource "aws_iam_role_policy" "task_execution" {
  role   = aws_iam_role.task_execution.id
  policy = data.aws_iam_policy_document.task_execution.json
}

# ---- deployed apps' task role: no permissions at all. Each app's artifact is baked into its own image (the
# runner image plus the artifact, pushed to ECR by the platform), so no app can read another app's artifact, or
# anything else of the account.

resource "aws_iam_role" "app_task" {
  name_prefix        = "${var.name}-app-"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

# ---- the platform (backend services and the Lambda): state, artifacts, and deploying apps to ECS

data "aws_iam_policy_document" "platform" {
  #checkov:skip=CKV_AWS_111:resource "*" only on actions AWS does not scope to a resource (file header); the rest are scoped
  #checkov:skip=CKV_AWS_356:resource "*" only on actions AWS does not scope to a resource (file header); the rest are scoped
  statement {
    sid = "State"
    actions = [
      "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
      "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchWriteItem",
    ]
    resources = local.dynamodb_arns
  }
  statement {
    sid       = "ArtifactObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = ["${aws_s3_bucket.artifacts.arn}/artifacts/*", "${aws_s3_bucket.artifacts.arn}/sources/*"]
  }
  statement {
    sid       = "ArtifactBucket"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.artifacts.arn]
  }
  statement {
    sid = "TaskDefinitions"
    actions = [
      "ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition", "ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions",
    ]
    resources = ["*"]
  }
  statement {
    sid       = "AppServices"
    actions   = ["ecs:CreateService", "ecs:UpdateService", "ecs:DeleteService", "ecs:DescribeServices"]
    resources = [local.ecs_service_arn_pattern]
  }
  statement {
    sid       = "TagAppResources"
    actions   = ["ecs:TagResource", "ecs:ListTagsForResource"]
    resources = [local.ecs_service_arn_pattern, local.app_task_definitions]
  }
  statement {
    sid       = "AppTasks"
    actions   = ["ecs:ListTasks", "ecs:DescribeTasks"]
    resources = [local.ecs_task_arn_pattern, aws_ecs_cluster.main.arn]
  }
  statement {
    sid       = "PassTaskRoles"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.task_execution.arn, aws_iam_role.app_task.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
  statement {
    sid = "AppTargetGroups"
    actions = [
      "elasticloadbalancing:CreateTargetGroup", "elasticloadbalancing:ModifyTargetGroup",
      "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:DeleteTargetGroup",
      "elasticloadbalancing:AddTags",
    ]
    resources = [local.app_target_groups]
  }
  statement {
    sid       = "AppListenerRules"
    actions   = ["elasticloadbalancing:CreateRule", "elasticloadbalancing:DeleteRule", "elasticloadbalancing:AddTags"]
    resources = [aws_lb_listener.https.arn, local.app_listener_rules]
  }
  statement {
    sid = "DescribeLoadBalancing"
    actions = [
      "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeRules",
      "elasticloadbalancing:DescribeTargetGroupAttributes",
    ]
    resources = ["*"]
  }
  statement {
    sid = "AppAutoscaling"
    actions = [
      "application-autoscaling:RegisterScalableTarget", "application-autoscaling:DeregisterScalableTarget",
      "application-autoscaling:PutScalingPolicy", "application-autoscaling:DescribeScalableTargets",
      "application-autoscaling:DescribeScalingPolicies",
    ]
    resources = ["*"]
  }
  statement {
    sid       = "ScalingAlarms"
    actions   = ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:DescribeAlarms"]
    resources = [local.app_scaling_alarms]
  }
  statement {
    sid       = "ScalingServiceLinkedRole"
    actions   = ["iam:CreateServiceLinkedRole"]
    resources = [local.autoscaling_slr]
    condition {
      test     = "StringEquals"
      variable = "iam:AWSServiceName"
      values   = ["ecs.application-autoscaling.amazonaws.com"]
    }
  }
  statement {
    sid       = "AppImages"
    actions   = ["ecr:DescribeImages"]
    resources = [aws_ecr_repository.apps.arn]
  }
  statement {
    sid       = "RegistryLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
  statement {
    sid = "PushAppImages"
    actions = [
      "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload",
      "ecr:PutImage", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
    ]
    resources = [aws_ecr_repository.apps.arn]
  }
  statement {
    sid       = "ReadRunnerImage"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [aws_ecr_repository.platform.arn]
  }
  statement {
    sid       = "AppLogs"
    actions   = ["logs:FilterLogEvents"]
    resources = ["${aws_cloudwatch_log_group.apps.arn}:*"]
  }
}

resource "aws_iam_role" "platform_task" {
  name_prefix        = "${var.name}-platform-"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy" "platform_task" {
  role   = aws_iam_role.platform_task.id
  policy = data.aws_iam_policy_document.platform.json
}

# ---- build caches (cache/<app>/ in the artifact bucket): Buildrelay's shared tier (backend/src/cache/sharedTier.ts)
# and the Jenkins pipeline's entry (jenkins/steps/cache-*.sh), each read and written by its fixed name: no listing.
# Not the Lambda's: it releases, it never builds.

data "aws_iam_policy_document" "build_cache" {
  statement {
    sid       = "BuildCacheObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = ["${aws_s3_bucket.artifacts.arn}/cache/*"]
  }
}

resource "aws_iam_role_policy" "platform_build_cache" {
  role   = aws_iam_role.platform_task.id
  policy = data.aws_iam_policy_document.build_cache.json
}

# ---- Jenkins agents (outside this stack): upload artifacts (jenkins/steps/upload.sh) and keep build caches. Attached
# to var.jenkins_agent_role_name when set; otherwise attach the jenkins_agent_policy_arn output to the agents' role.

data "aws_iam_policy_document" "jenkins_agent" {
  source_policy_documents = [data.aws_iam_policy_document.build_cache.json]
  statement {
    sid       = "UploadArtifacts"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload"]
    resources = ["${aws_s3_bucket.artifacts.arn}/artifacts/*"]
  }
}

resource "aws_iam_policy" "jenkins_agent" {
  name_prefix = "${var.name}-jenkins-agent-"
  description = "CloudSmith Jenkins agents: artifact uploads and build caches in the artifact bucket"
  policy      = data.aws_iam_policy_document.jenkins_agent.json
}

resource "aws_iam_role_policy_attachment" "jenkins_agent" {
  count      = var.jenkins_agent_role_name == "" ? 0 : 1
  role       = var.jenkins_agent_role_name
  policy_arn = aws_iam_policy.jenkins_agent.arn
}

resource "aws_iam_role" "lambda" {
  name_prefix        = "${var.name}-lambda-"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "lambda_platform" {
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.platform.json
}

data "aws_iam_policy_document" "lambda_runtime" {
  #checkov:skip=CKV_AWS_111:the VPC ENI actions and X-Ray writes take no resource-level permissions
  #checkov:skip=CKV_AWS_356:the VPC ENI actions and X-Ray writes take no resource-level permissions
  statement {
    sid       = "PlatformKey"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.platform_key.arn]
  }
  statement {
    sid       = "LambdaLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.lambda.arn}:*"]
  }
  statement {
    sid = "VpcNetworkInterfaces"
    actions = [
      "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface",
      "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
    ]
    resources = ["*"]
  }
  statement {
    sid       = "DeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.lambda_dlq.arn]
  }
  statement {
    sid       = "Tracing"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "lambda_runtime" {
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.lambda_runtime.json
}
