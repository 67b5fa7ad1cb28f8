"""Strict JSON request bodies: right content type, an object, known fields, right types."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import request

from consent_service.web.errors import ApiError


def ensure_encodable(value: str, field: str) -> str:
    """Reject text that cannot be stored as UTF-8 (e.g. a lone surrogate from a JSON escape)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(
            400, "invalid_text", f"{field} contains characters that are not valid text"
        ) from None
    if "\x00" in value:
        raise ApiError(400, "invalid_text", f"{field} contains a NUL character")
    return value


@dataclass(frozen=True)
class Field:
    kind: type | tuple[type, ...]
    required: bool = True
    max_length: int | None = None
    choices: tuple[Any, ...] | None = None
    check: Callable[[Any], bool] | None = None
    check_message: str = "is not valid"


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {bool: "true or false", int: "an integer", str: "a string", dict: "an object",
             list: "a list", type(None): "null"}  # fmt: skip
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _matches(value: Any, kind: type | tuple[type, ...]) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # bool is an int in Python; an integer field must not accept true/false.
    if isinstance(value, bool) and bool not in kinds:
        return False
    return isinstance(value, kinds)


def validate_object(data: Any, schema: Mapping[str, Field], where: str = "body") -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", f"The {where} must be a JSON object.")
    unknown = sorted(set(data) - set(schema))
    if unknown:
        raise ApiError(400, "unknown_field", f"Unknown field(s): {', '.join(unknown)[:200]}.")
    clean: dict[str, Any] = {}
    for name, spec in schema.items():
        if name not in data or data[name] is None:
            if spec.required:
                raise ApiError(400, "missing_field", f"{name} is required.")
            continue
        value = data[name]
        if not _matches(value, spec.kind):
            raise ApiError(400, "invalid_type", f"{name} must be {_type_name(spec.kind)}.")
        if isinstance(value, str):
            ensure_encodable(value, name)
            if spec.max_length is not None and len(value) > spec.max_length:
                raise ApiError(
                    400, "too_long", f"{name} is longer than {spec.max_length} characters."
                )
        if spec.choices is not None and value not in spec.choices:
            allowed = ", ".join(str(c) for c in spec.choices)
            raise ApiError(400, "invalid_value", f"{name} must be one of: {allowed}.")
        if spec.check is not None and not spec.check(value):
            raise ApiError(400, "invalid_value", f"{name} {spec.check_message}.")
        clean[name] = value
    return clean


def json_body(schema: Mapping[str, Field], *, allow_text_plain: bool = False) -> dict[str, Any]:
    """Parse and validate the request body against `schema`, or raise a 4xx ApiError."""
    mimetype = request.mimetype
    allowed = {"application/json"} | ({"text/plain"} if allow_text_plain else set())
    if mimetype not in allowed:
        raise ApiError(
            415, "unsupported_media_type", f"Send the body as {' or '.join(sorted(allowed))}."
        )
    raw = request.get_data(cache=True)  # MAX_CONTENT_LENGTH raises 413 before this returns
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid_json", "The body is not valid JSON.") from None
    return validate_object(data, schema)
