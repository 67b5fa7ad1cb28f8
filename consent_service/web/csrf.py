"""Flask-WTF's CSRF protection for the service's own HTML forms.

Unbound at import; `create_app` binds it. Domains exempt their JSON blueprints, which the
exact Origin allow-list protects instead (web/origins.py).
"""

from __future__ import annotations

from flask_wtf import CSRFProtect

csrf = CSRFProtect()
