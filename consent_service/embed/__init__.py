"""Serving the built embeds (`/embed/consent.js`) with their configuration, caching and gzip."""
