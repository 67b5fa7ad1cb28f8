"""Landmarks of a rendered page: a nested landmark must not repeat its ancestor's name."""

from __future__ import annotations

from html.parser import HTMLParser

LANDMARK_TAGS = {"main", "nav", "aside", "header", "footer", "form", "section"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


class _Landmarks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str | None]] = []  # (tag, landmark name key or None)
        self.found: list[tuple[str, str]] = []  # (outer name, inner name) that are equal

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID:
            return
        found = dict(attrs)
        named = found.get("aria-labelledby") or found.get("aria-label")
        landmark = tag in LANDMARK_TAGS or found.get("role") in {"region", "navigation"}
        key = f"{found.get('aria-labelledby')}|{found.get('aria-label')}" if named else None
        if landmark and key is not None:
            for _, outer in self.stack:
                if outer == key:
                    self.found.append((outer, key))
        self.stack.append((tag, key if landmark else None))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return


def nested_landmarks_with_the_same_name(html: str) -> list[tuple[str, str]]:
    """Pairs of nested landmarks named alike (the same aria-labelledby or aria-label)."""
    parser = _Landmarks()
    parser.feed(html)
    return parser.found
