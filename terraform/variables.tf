variable "namespace" {
  description = "Kubernetes namespace the functions run in (the overlay's namespace)."
  type        = string
  default     = "affiliate-matrix"
  # Vault binds every role to this namespace: a glob ("*", "affiliate-*") or an empty name would let a service
  # account called fn-keys in any namespace matching it log in with the keys function's policy.
  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be one Kubernetes namespace name (a DNS label), never a glob."
  }
}

variable "functions" {
  description = "Every function; each gets a Vault policy (infra/vault/policies/fn-<name>.hcl) and a Kubernetes auth role."
  type        = list(string)
  default     = ["programs", "connections", "scrape", "sync", "index", "verify", "keys", "discover", "triggers", "budget", "web"]
  # Each name becomes the service account a role is bound to (fn-<name>): a glob would bind several accounts.
  validation {
    condition     = length(var.functions) > 0 && alltrue([for f in var.functions : can(regex("^[a-z][a-z0-9-]{0,40}$", f))])
    error_message = "functions must be function names (lowercase letters, digits and -), never a glob."
  }
}

variable "vault_address" {
  description = "Vault's address; the token comes from VAULT_TOKEN."
  type        = string
  default     = "http://vault.vault.svc.cluster.local:8200"
}

variable "kubernetes_host" {
  description = "The Kubernetes API address Vault calls to review service-account tokens."
  type        = string
  default     = "https://kubernetes.default.svc"
}

variable "kubernetes_ca_cert" {
  description = "PEM CA certificate of the Kubernetes API."
  type        = string
  default     = ""
}

variable "s3_endpoint" {
  description = "S3-compatible endpoint (MinIO in the cluster; empty for AWS)."
  type        = string
  default     = "http://minio.storage.svc.cluster.local:9000"
}

variable "s3_region" {
  type    = string
  default = "us-east-1"
}

variable "s3_access_key" {
  type      = string
  sensitive = true
}

variable "s3_secret_key" {
  type      = string
  sensitive = true
}

variable "bucket" {
  description = "The bucket every function shares (AMX_S3_BUCKET)."
  type        = string
  default     = "affiliate-matrix"
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket))
    error_message = "bucket must be an S3 bucket name."
  }
}

variable "raw_noncurrent_days" {
  description = "How long a replaced version of a raw page or batch is kept."
  type        = number
  default     = 90
  # 0 would expire a raw page's replaced or deleted version at once: an overwrite or a delete could not be undone.
  validation {
    condition     = var.raw_noncurrent_days >= 7
    error_message = "raw_noncurrent_days must be at least 7: a replaced or deleted raw page must stay recoverable."
  }
}

variable "opensearch_url" {
  description = "OpenSearch's https address; its CA and user come from OPENSEARCH_CACERT, OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD."
  type        = string
  default     = "https://opensearch.search.svc.cluster.local:9200"
}

variable "index_prefix" {
  description = "AMX_INDEX_PREFIX."
  type        = string
  default     = "amx"
  # The index template and ISM policy match "<prefix>-*-v*": an empty prefix or a glob would reach other indices.
  validation {
    condition     = can(regex("^[a-z][a-z0-9_-]{0,30}$", var.index_prefix))
    error_message = "index_prefix must be AMX_INDEX_PREFIX: a lowercase letter, then up to 30 of a-z, 0-9, _ and -."
  }
}

variable "superseded_index_days" {
  description = "How long an index version replaced by a migration is kept for rollback."
  type        = number
  default     = 30
  validation {
    condition     = var.superseded_index_days >= 1
    error_message = "superseded_index_days must be at least 1: a replaced index version is kept for rollback."
  }
}
