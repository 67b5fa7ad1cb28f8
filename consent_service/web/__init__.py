"""HTTP plumbing shared by every domain: JSON errors, input validation, origins, headers."""
