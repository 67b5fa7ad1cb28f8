"""Cookie consent: the policy, the signed choice cookie and the rules for recording a choice."""
