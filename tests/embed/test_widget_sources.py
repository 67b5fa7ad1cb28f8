"""The embeds' sources share their small helpers through widget/src/dom.js."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "widget" / "src"


def test_helpers_live_once_in_dom_js() -> None:
    dom = (SRC / "dom.js").read_text(encoding="utf-8")
    for name in ("uuid", "h", "pageLang"):
        assert re.search(rf"^export (const|function) {name}\b", dom, re.M), name
    for embed in ("consent.js", "ideas.js"):
        source = (SRC / embed).read_text(encoding="utf-8")
        assert re.search(r'^import \{[^}]*\} from "\./dom\.js";$', source, re.M), embed
        # No private copies left behind.
        assert "getRandomValues" not in source, embed
        assert not re.search(r"^const (uuid|h) =", source, re.M), embed
        assert "documentElement.lang" not in source, embed
