"""Forms on the privacy officer's pages (CSRF-protected actions)."""

from __future__ import annotations

from flask_wtf import FlaskForm


class VerifyForm(FlaskForm):
    """'Verify now': no fields, only the CSRF token."""
