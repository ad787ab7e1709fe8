"""Quality engines (L2): validation rules, scores, freshness, version diffs."""
