"""Read the CSRF token out of a page the service rendered."""

from __future__ import annotations

from html.parser import HTMLParser

from flask.testing import FlaskClient


class _TokenFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tokens: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("name") == "csrf_token" and found.get("value"):
            self.tokens.append(found["value"] or "")


def csrf_tokens_in(html: str | bytes) -> list[str]:
    """Every form token in the page, in document order (attribute order does not matter)."""
    finder = _TokenFinder()
    finder.feed(html.decode() if isinstance(html, bytes) else html)
    return finder.tokens


def csrf_token_in(html: str | bytes) -> str:
    """The page's (first) form token; fails the test when there is none."""
    tokens = csrf_tokens_in(html)
    assert tokens, "no CSRF token in the page"
    return tokens[0]


def form_token(client: FlaskClient, path: str) -> str:
    """GET `path` and return its form token."""
    return csrf_token_in(client.get(path).get_data())
