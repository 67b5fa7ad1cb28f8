"""Numbers and dates in the page's language, from CLDR's locale data (Babel), never by hand.

Hand formatting drifted: one page said "44.4 %", another "0,0 d". CLDR knows that Swedish
writes "44,4 %" (a no-break space before the sign, a decimal comma) and English "44.4%",
and the same holds for Finnish and Arabic when they come. Staff pages are Swedish; a
citizen page passes its `language` to the template, and the filters read it from there.

Templates: `{{ n|number }}`, `{{ seconds|number(1) }}`, `{{ share|percent(1) }}` (a share
0 to 1), `{{ day|date }}`, `{{ at|datetime(seconds=True) }}`. Python code (view helpers, CSV
files for people) calls the `format_*` functions, Swedish unless told otherwise.
"""

from __future__ import annotations

import copy
import datetime as dt
from functools import cache
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _babel_date
from babel.dates import format_time as _babel_time
from babel.numbers import NumberPattern, get_minus_sign_symbol, get_plus_sign_symbol
from flask import Flask
from jinja2 import pass_context
from jinja2.runtime import Context

STAFF_LOCALE = "sv"
DASH = "\u2013"  # where there is no figure


@cache
def _locale(language: str | None) -> Locale:
    """The CLDR locale for a page language; Swedish for anything Babel does not know."""
    try:
        return Locale.parse((language or STAFF_LOCALE).replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return Locale.parse(STAFF_LOCALE)


@cache
def _pattern(language: str | None, kind: str, digits: int | None) -> NumberPattern:
    """The locale's decimal or percent pattern, with exactly `digits` decimals when given."""
    locale = _locale(language)
    formats = locale.percent_formats if kind == "percent" else locale.decimal_formats
    base: NumberPattern = formats[None]
    if digits is None:
        return base
    pattern: NumberPattern = copy.copy(base)
    pattern.frac_prec = (digits, digits)
    return pattern


def format_number(value: float | None, digits: int | None = None, language: str = "sv") -> str:
    """1234567.5 → '1 234 567,5' (sv) or '1,234,567.5' (en); `digits` fixes the decimals."""
    if value is None:
        return DASH
    return str(_pattern(language, "decimal", digits).apply(value, _locale(language)))


def format_percent(share: float | None, digits: int = 0, language: str = "sv") -> str:
    """A share (0 to 1) as a percentage: 0.444 → '44,4 %' (sv, no-break space) or '44.4%' (en)."""
    if share is None:
        return DASH
    return str(_pattern(language, "percent", digits).apply(share, _locale(language)))


def format_change(now: float, before: float, language: str = "sv") -> str | None:
    """The change against an earlier figure as a signed percentage: '+12 %' (sv).

    The locale's own plus and minus signs (Swedish writes U+2212, English a hyphen-minus).
    None when there is nothing to compare with (the earlier figure is 0).
    """
    if not before:
        return None
    delta = (now - before) / before
    locale = _locale(language)
    sign = get_plus_sign_symbol(locale) if round(delta, 2) >= 0 else get_minus_sign_symbol(locale)
    return sign + format_percent(abs(delta), 0, language)


def format_points(now: float, before: float, language: str = "sv") -> str:
    """A difference of two percentages in whole points, signed: 50, 45 → '+5' (sv, en)."""
    locale = _locale(language)
    delta = round(now - before)
    sign = get_minus_sign_symbol(locale) if delta < 0 else get_plus_sign_symbol(locale)
    return sign + format_number(abs(delta), None, language)


def _as_datetime(value: dt.datetime | dt.date | str) -> dt.datetime | dt.date:
    # Some JSON-shaped view models carry ISO text; naive datetimes are UTC (as SQLite returns).
    if isinstance(value, str):
        parsed = dt.datetime.fromisoformat(value)
        return parsed if "T" in value or " " in value else parsed.date()
    return value


def format_date(
    value: dt.datetime | dt.date | str | None, style: str = "short", language: str = "sv"
) -> str:
    """A calendar date in the locale's `short`, `medium` or `long` style (sv short: ISO)."""
    if value is None or value == "":
        return DASH
    day = _as_datetime(value)
    if isinstance(day, dt.datetime):
        day = (day if day.tzinfo else day.replace(tzinfo=dt.UTC)).date()
    return str(_babel_date(day, style, locale=_locale(language)))


def format_datetime(
    value: dt.datetime | str | None,
    style: str = "short",
    *,
    seconds: bool = False,
    language: str = "sv",
) -> str:
    """A moment in its own time zone (UTC when naive): sv short '2026-01-31 14:05'.

    `seconds` keeps the seconds (a log's rows often share a minute) by taking the
    locale's medium time inside its `style` date-time pattern.
    """
    if value is None or value == "":
        return DASH
    moment = _as_datetime(value)
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime.combine(moment, dt.time())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    locale = _locale(language)
    date_text = _babel_date(moment.date(), style, locale=locale)
    time_style = "medium" if seconds else style
    time_text = _babel_time(moment, time_style, tzinfo=moment.tzinfo, locale=locale)
    # CLDR's glue, e.g. "{1} {0}" (sv) or "{1}, {0}" (en); quotes mark literal text.
    glue = str(locale.datetime_formats[style]).replace("'", "")
    return glue.replace("{1}", date_text).replace("{0}", time_text)


def _language(context: Context) -> str:
    """The page's language: what a citizen page passed, Swedish on staff pages."""
    language = context.get("language")
    return language if isinstance(language, str) and language else STAFF_LOCALE


@pass_context
def number_filter(context: Context, value: float | None, digits: int | None = None) -> str:
    return format_number(value, digits, _language(context))


@pass_context
def percent_filter(context: Context, share: float | None, digits: int = 0) -> str:
    return format_percent(share, digits, _language(context))


@pass_context
def date_filter(context: Context, value: Any, style: str = "short") -> str:
    return format_date(value, style, _language(context))


@pass_context
def datetime_filter(
    context: Context, value: Any, style: str = "short", seconds: bool = False
) -> str:
    return format_datetime(value, style, seconds=seconds, language=_language(context))


def init_app(app: Flask) -> None:
    """Register the `number`, `percent`, `date` and `datetime` template filters."""
    app.add_template_filter(number_filter, "number")
    app.add_template_filter(percent_filter, "percent")
    app.add_template_filter(date_filter, "date")
    app.add_template_filter(datetime_filter, "datetime")
