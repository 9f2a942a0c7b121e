resource "aws_s3_bucket" "artifacts" {
  #checkov:skip=CKV_AWS_144:artifacts are rebuilt from their commit and expire; a cross-region replica has no reader
  bucket_prefix = "${var.name}-artifacts-"
}

resource "aws_s3_bucket_public_access_block" "artifacts" {
  bucket                  = aws_s3_bucket.artifacts.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "artifacts" {
  bucket = aws_s3_bucket.artifacts.id
  rule {
    id     = "artifacts"
    status = "Enabled"
    filter {
      prefix = "artifacts/"
    }
    expiration {
      days = var.artifact_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
  }
  rule {
    id     = "sources"
    status = "Enabled"
    filter {
      prefix = "sources/"
    }
    # Fetched sources are only needed until their build finishes.
    expiration {
      days = 7
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }
  rule {
    id     = "build-cache"
    status = "Enabled"
    filter {
      prefix = "cache/"
    }
    # Build caches are rebuilt by the next cold build; an app not built for this long loses its own.
    expiration {
      days = var.cache_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }
  rule {
    id     = "abort-incomplete-multipart"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

resource "aws_s3_bucket_policy" "artifacts_tls_only" {
  bucket = aws_s3_bucket.artifacts.id
  policy = data.aws_iam_policy_document.artifacts_tls_only.json
}

data "aws_iam_policy_document" "artifacts_tls_only" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"]
    resources = [
      aws_s3_bucket.artifacts.arn,
      "${aws_s3_bucket.artifacts.arn}/*",
    ]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

# The tables DynamoStore uses (backend/src/adapters/store/dynamodb/tables.ts); terraform/test checks they match.
resource "aws_dynamodb_table" "apps" {
  #checkov:skip=CKV_AWS_119:encrypted at rest with the AWS managed key; access is bounded by IAM on the tables, a CMK adds no boundary here
  name         = "${local.table_prefix}apps"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "name"
  attribute {
    name = "name"
    type = "S"
  }
  attribute {
    name = "ownerId"
    type = "S"
  }
  attribute {
    name = "createdAt"
    type = "S"
  }
  attribute {
    name = "liveDeploymentId"
    type = "S"
  }
  global_secondary_index {
    name            = "byOwner"
    hash_key        = "ownerId"
    range_key       = "createdAt"
    projection_type = "ALL"
  }
  global_secondary_index {
    name            = "live"
    hash_key        = "liveDeploymentId"
    projection_type = "ALL"
  }
  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled = true
  }
}

resource "aws_dynamodb_table" "deployments" {
  #checkov:skip=CKV_AWS_119:encrypted at rest with the AWS managed key; access is bounded by IAM on the tables, a CMK adds no boundary here
  name         = "${local.table_prefix}deployments"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
  attribute {
    name = "ownerId"
    type = "S"
  }
  attribute {
    name = "repo"
    type = "S"
  }
  attribute {
    name = "app"
    type = "S"
  }
  attribute {
    name = "createdAt"
    type = "S"
  }
  global_secondary_index {
    name            = "byOwner"
    hash_key        = "ownerId"
    range_key       = "createdAt"
    projection_type = "ALL"
  }
  global_secondary_index {
    name            = "byRepo"
    hash_key        = "repo"
    range_key       = "createdAt"
    projection_type = "ALL"
  }
  global_secondary_index {
    name            = "byApp"
    hash_key        = "app"
    range_key       = "createdAt"
    projection_type = "ALL"
  }
  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled = true
  }
}

resource "aws_dynamodb_table" "logs" {
  #checkov:skip=CKV_AWS_119:encrypted at rest with the AWS managed key; access is bounded by IAM on the tables, a CMK adds no boundary here
  name         = "${local.table_prefix}logs"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "deploymentId"
  range_key    = "seq"
  attribute {
    name = "deploymentId"
    type = "S"
  }
  attribute {
    name = "seq"
    type = "N"
  }
  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled = true
  }
}

resource "aws_dynamodb_table" "env" {
  #checkov:skip=CKV_AWS_119:encrypted at rest with the AWS managed key; access is bounded by IAM on the tables, a CMK adds no boundary here
  name         = "${local.table_prefix}env"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "app"
  attribute {
    name = "app"
    type = "S"
  }
  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled = true
  }
}

resource "aws_dynamodb_table" "processed" {
  #checkov:skip=CKV_AWS_119:encrypted at rest with the AWS managed key; access is bounded by IAM on the tables, a CMK adds no boundary here
  name         = "${local.table_prefix}processed"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "consumer"
  range_key    = "eventId"
  attribute {
    name = "consumer"
    type = "S"
  }
  attribute {
    name = "eventId"
    type = "S"
  }
  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }
  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled = true
  }
}

locals {
  dynamodb_tables = [
    aws_dynamodb_table.apps,
    aws_dynamodb_table.deployments,
    aws_dynamodb_table.logs,
    aws_dynamodb_table.env,
    aws_dynamodb_table.processed,
  ]
  dynamodb_arns = flatten([for t in local.dynamodb_tables : [t.arn, "${t.arn}/index/*"]])
}

resource "random_password" "platform_key" {
  length  = 48
  special = false
}

# Seals app env vars and GitHub tokens at rest (CLOUDSMITH_SECRET_KEY).
resource "aws_secretsmanager_secret" "platform_key" {
  #checkov:skip=CKV2_AWS_57:this key seals stored secrets; rotating it without re-sealing them makes them unreadable
  #checkov:skip=CKV_AWS_149:encrypted with the aws/secretsmanager key; who may read it is bounded by the IAM statements naming this secret
  name_prefix             = "${var.name}-platform-key-"
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret_version" "platform_key" {
  secret_id     = aws_secretsmanager_secret.platform_key.id
  secret_string = random_password.platform_key.result
}
