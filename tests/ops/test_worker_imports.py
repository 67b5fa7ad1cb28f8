"""A gunicorn worker loads only what serving needs: the app's memory budget (80 MB RSS).

Alembic (with Mako), the Swedish stemmer and the browser driver are used by commands, by a
submitted idea or a staff search and by the scanner, never by every worker. Building the app
must not import them; they are loaded when first used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NOT_AT_START = ("alembic", "mako", "snowballstemmer", "playwright")


def test_building_the_app_leaves_command_only_libraries_unloaded(tmp_path: Path) -> None:
    script = (
        "import json, sys\n"
        "from consent_service import create_app\n"
        "create_app()\n"
        f"print(json.dumps([m for m in {NOT_AT_START!r} if m in sys.modules]))\n"
    )
    env = {
        **os.environ,
        "CONSENT_ENV": "development",
        "CONSENT_SECRET_KEY": "worker-imports-test-key-0123456789abcdefghij",
        "CONSENT_DATABASE_URL": f"sqlite:///{tmp_path / 'consent.sqlite3'}",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
