"""Test helpers shared across the suite: forms, staff sign-in, servers on loopback."""
