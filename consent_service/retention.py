"""`consent-service purge`: each domain registers what it removes under the retention rules."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

# A purger removes what is past its retention period and returns a line for the operator.
Purger = Callable[[], str]


def register_purger(app: Flask, name: str, purger: Purger) -> None:
    purgers: dict[str, Purger] = app.extensions.setdefault("purgers", {})
    purgers[name] = purger


def run_purgers(app: Flask) -> list[tuple[str, str]]:
    purgers: dict[str, Purger] = app.extensions.get("purgers", {})
    return [(name, purger()) for name, purger in purgers.items()]
