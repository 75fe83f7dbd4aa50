# Index defaults, and retention by ISM. The functions create their own versioned indices
# (amx-<name>-v<N>, mappings from infra/opensearch/indices/) behind aliases; these policies
# decide how long index versions live.

resource "opensearch_index_template" "defaults" {
  name = "${var.index_prefix}-defaults"
  body = jsonencode({
    index_patterns = ["${var.index_prefix}-*-v*"]
    priority       = 10
    template = {
      settings = {
        number_of_shards   = 1
        number_of_replicas = 1
        refresh_interval   = "1s"
      }
    }
  })
}

# A version replaced by `amx index migrate` is kept for rollback, then deleted. The code attaches
# this policy to the version it moves the alias away from.
resource "opensearch_ism_policy" "superseded" {
  policy_id = "${var.index_prefix}-superseded-versions"
  body = jsonencode({
    policy = {
      description   = "Delete an index version some days after a migration replaced it"
      default_state = "kept"
      states = [
        {
          name    = "kept"
          actions = [{ read_only = {} }]
          transitions = [{ state_name = "deleted", conditions = { min_index_age = "${var.superseded_index_days}d" } }]
        },
        {
          name        = "deleted"
          actions     = [{ delete = {} }]
          transitions = []
        }
      ]
    }
  })
}
