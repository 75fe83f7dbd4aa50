# The object store: raw pages, batches, documents. Versioning on, so an overwrite or a delete can
# be undone; replaced versions expire after var.raw_noncurrent_days.

resource "aws_s3_bucket" "data" {
  bucket = var.bucket
  #checkov:skip=CKV_AWS_144:one MinIO in one cluster; cross-region replication does not apply
  #checkov:skip=CKV_AWS_18:MinIO writes its own audit log; S3 server access logging is an AWS feature
  #checkov:skip=CKV2_AWS_62:nothing consumes bucket notifications; the functions announce work as CloudEvents
  #checkov:skip=CKV_AWS_145:MinIO encrypts with SSE-S3 under its own KES keys (below); there is no AWS KMS key here
}

resource "aws_s3_bucket_versioning" "data" {
  bucket = aws_s3_bucket.data.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "data" {
  bucket                  = aws_s3_bucket.data.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  bucket = aws_s3_bucket.data.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "data" {
  bucket     = aws_s3_bucket.data.id
  depends_on = [aws_s3_bucket_versioning.data]

  rule {
    id     = "expire-replaced-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.raw_noncurrent_days
    }
    # a delete marker left alone once its versions expired: what removing a tombstone (retention) or an
    # unconditional delete leaves in a versioned bucket
    expiration {
      expired_object_delete_marker = true
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  rule {
    id     = "expire-event-markers" # the events' records: each done, or a claim (taken over after 30 minutes)
    status = "Enabled"
    filter {
      prefix = "events/done/"
    }
    expiration {
      days = 30
    }
  }

  rule {
    id     = "expire-event-claims" # claims kept apart from the records before (handlers/events.py): none written now
    status = "Enabled"
    filter {
      prefix = "events/claims/"
    }
    expiration {
      days = 30
    }
  }
}
