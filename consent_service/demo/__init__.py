"""The demo host page at `/`: an uppsala.se-like page with the banner embedded."""
