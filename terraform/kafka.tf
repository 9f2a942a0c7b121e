resource "aws_msk_cluster" "main" {
  #checkov:skip=CKV_AWS_81:at rest the brokers use MSK's KMS encryption (default key); client-broker stays TLS_PLAINTEXT until KafkaBus speaks TLS (backend config has no KAFKA_SSL yet)
  cluster_name           = var.name
  kafka_version          = var.kafka_version
  number_of_broker_nodes = 2
  broker_node_group_info {
    instance_type   = var.kafka_instance_type
    client_subnets  = aws_subnet.private[*].id
    security_groups = [aws_security_group.kafka.id]
    storage_info {
      ebs_storage_info {
        volume_size = var.kafka_volume_gb
      }
    }
  }
  # The brokers are reachable only from inside the VPC (security group); kafkajs connects in plaintext there.
  encryption_info {
    encryption_in_transit {
      client_broker = "TLS_PLAINTEXT"
      in_cluster    = true
    }
  }
  configuration_info {
    arn      = aws_msk_configuration.main.arn
    revision = aws_msk_configuration.main.latest_revision
  }
  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.kafka.name
      }
    }
  }
}

resource "aws_msk_configuration" "main" {
  name           = "${var.name}-kafka"
  kafka_versions = [var.kafka_version]
  # Topics are created by the backend at startup (KafkaBus) with these settings; two brokers, so RF 2.
  server_properties = <<-PROPERTIES
    auto.create.topics.enable=false
    default.replication.factor=2
    min.insync.replicas=1
    num.partitions=${var.kafka_partitions}
  PROPERTIES
}

resource "aws_cloudwatch_log_group" "kafka" {
  name              = "/${var.name}/kafka"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.logs.arn
}
