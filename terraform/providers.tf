provider "vault" {
  address = var.vault_address
}

# MinIO (or any S3-compatible store) through the AWS provider.
provider "aws" {
  region                      = var.s3_region
  access_key                  = var.s3_access_key
  secret_key                  = var.s3_secret_key
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
  endpoints {
    s3 = var.s3_endpoint
  }
}

provider "opensearch" {
  url         = var.opensearch_url
  healthcheck = false
}
