"""The consent log: an append-only hash chain that a privacy officer can verify and export."""
