variable "namespace" {
  description = "Kubernetes namespace the functions run in (the overlay's namespace)."
  type        = string
  default     = "affiliate-matrix"
}

variable "functions" {
  description = "Every function; each gets a Vault policy (infra/vault/policies/fn-<name>.hcl) and a Kubernetes auth role."
  type        = list(string)
  default     = ["programs", "connections", "scrape", "sync", "index", "verify", "keys", "discover", "triggers", "budget", "web"]
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
}

variable "raw_noncurrent_days" {
  description = "How long a replaced version of a raw page or batch is kept."
  type        = number
  default     = 90
}

variable "opensearch_url" {
  type    = string
  default = "http://opensearch.search.svc.cluster.local:9200"
}

variable "index_prefix" {
  description = "AMX_INDEX_PREFIX."
  type        = string
  default     = "amx"
}

variable "superseded_index_days" {
  description = "How long an index version replaced by a migration is kept for rollback."
  type        = number
  default     = 30
}
