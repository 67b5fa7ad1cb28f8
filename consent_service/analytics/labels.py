"""Swedish labels for the stored codes (device classes, browsers, languages, reasons)."""

from __future__ import annotations

from consent_service.analytics.rollup import PROP_SEPARATOR
from consent_service.web.formatting import (
    format_change,
    format_number,
    format_percent,
    format_points,
)

DASH = "\u2013"  # shown where there is no figure
TITLES = {
    "page": "Mest besökta sidor",
    "referrer": "Hänvisande webbplatser",
    "language": "Webbläsarens språk",
    "device": "Enhetstyp",
    "browser": "Webbläsare",
    "os": "Operativsystem",
    "screen": "Skärmbredd",
    "host": "Webbplatser",
    "event": "Egna händelser",
    "prop": "Händelsernas egenskaper",
}
COLUMN = {
    "page": "Sida",
    "referrer": "Webbplats",
    "language": "Språk",
    "device": "Enhetstyp",
    "browser": "Webbläsare",
    "os": "Operativsystem",
    "screen": "Skärmbredd",
    "host": "Värdnamn",
    "event": "Händelse",
}
DEVICES = {"mobile": "Mobil", "tablet": "Surfplatta", "desktop": "Dator"}
BROWSERS = {"chrome": "Chrome", "safari": "Safari", "firefox": "Firefox", "edge": "Edge",
            "opera": "Opera", "samsung": "Samsung Internet", "other": "Annan"}  # fmt: skip
SYSTEMS = {"windows": "Windows", "macos": "macOS", "ios": "iOS och iPadOS",
           "android": "Android", "linux": "Linux", "chromeos": "ChromeOS",
           "other": "Annat"}  # fmt: skip
SCREENS = {"small": "Smal (under 600 px)", "medium": "Mellan (600\u20131 023 px)",
           "large": "Bred (1 024 px eller mer)"}  # fmt: skip
LANGUAGES = {"sv": "svenska", "en": "engelska", "fi": "finska", "ar": "arabiska",
             "so": "somaliska", "fa": "persiska", "ti": "tigrinja", "uk": "ukrainska",
             "pl": "polska", "de": "tyska", "fr": "franska", "es": "spanska",
             "nb": "norska", "nn": "nynorska", "no": "norska", "da": "danska",
             "ru": "ryska", "tr": "turkiska", "se": "nordsamiska", "yi": "jiddisch",
             "rom": "romani", "it": "italienska", "zh": "kinesiska"}  # fmt: skip
FUNNEL_STEPS = {
    "idea_shown": "Såg idéformuläret",
    "idea_opened": "Öppnade idéformuläret",
    "idea_started": "Började skriva",
    "idea_submitted": "Skickade in en idé",
}
REASONS = {
    "no_consent": "Inget giltigt samtycke (saknas, förfalskat eller för gammalt)",
    "old_policy": "Samtycke till en äldre version av kakpolicyn",
    "no_statistics": "Samtycket omfattar inte statistik",
    "bot": "Robot, övervakning eller skript",
    "unknown_host": "Webbplatsen finns inte på listan över tillåtna",
    "invalid": "Ogiltiga händelser",
    "rate_limited": "För många händelser från samma klient eller samtycke (gräns per minut)",
    "visitor_cap": "Över taket för en besökare per dag",
}
VISIT_TITLES = {
    "source_kind": "Typ av källa",
    "source": "Källor",
    "entry_page": "Ingångssidor (där besöken började)",
    "exit_page": "Utgångssidor (där besöken slutade)",
    "utm_source": "Kampanjkällor (utm_source)",
    "utm_medium": "Kampanjmedier (utm_medium)",
    "utm_campaign": "Kampanjer (utm_campaign)",
    "goal": "Mål",
}
VISIT_COLUMN = {
    "source_kind": "Typ",
    "source": "Källa",
    "entry_page": "Sida",
    "exit_page": "Sida",
    "utm_source": "utm_source",
    "utm_medium": "utm_medium",
    "utm_campaign": "utm_campaign",
    "goal": "Mål",
}
SOURCE_KINDS = {
    "search": "Sökmotorer",
    "social": "Sociala medier",
    "site": "Andra webbplatser",
    "campaign": "Kampanjlänkar utan hänvisning (nyhetsbrev, QR-koder)",
    "direct": "Direkt, bokmärke eller okänd",
}
# What the figures are compared with (the dashboard's `compare`), and the words around it.
COMPARISONS = {"previous": "perioden före", "year": "samma period förra året"}
NEW = {"sv": "ny", "en": "new"}
POINTS = {"sv": "procentenheter", "en": "percentage points"}
HOURS = {"sv": "tim", "en": "h"}
# Reasons that mean a limit held events back (a flood, a script), not missing consent.
LIMIT_REASONS = ("rate_limited", "visitor_cap")


def value_label(dimension: str, value: str) -> str:
    """How a stored value reads in the dashboard."""
    if dimension == "source_kind":
        return SOURCE_KINDS.get(value, value)
    if dimension == "source" and value == "Direct / None":
        return SOURCE_KINDS["direct"]
    if dimension == "referrer":
        return value or "Direkt, bokmärke eller okänd"
    if dimension == "language":
        return f"{LANGUAGES.get(value, value)} ({value})" if value else "Okänt"
    if dimension == "device":
        return DEVICES.get(value, value or "Okänd")
    if dimension == "browser":
        return BROWSERS.get(value, value or "Okänd")
    if dimension == "os":
        return SYSTEMS.get(value, value or "Okänt")
    if dimension == "screen":
        return SCREENS.get(value, value or "Okänd")
    return value or DASH


def prop_parts(value: str) -> tuple[str, str, str]:
    """An event-property row's value is the event name, property and value, tab-separated."""
    parts = value.split(PROP_SEPARATOR, 2)
    parts += [""] * (3 - len(parts))
    return parts[0], parts[1], parts[2]


def number(n: int | float) -> str:
    """1234567 → '1 234 567' (Swedish digit grouping with a no-break space)."""
    return format_number(round(n))


def percent(share: float | None, digits: int = 0) -> str:
    """0.444 → '44 %' (or '44,4 %' with one digit), a no-break space before the sign."""
    return format_percent(share, digits)


def change(now: int | float, before: int | float, language: str = "sv") -> str:
    """The change from the period compared with, e.g. '+12 %' or a minus sign and '3 %'."""
    shown = format_change(now, before, language)
    if shown is None:
        return NEW[language] if now else DASH
    return shown


def point_change(now: int | float, before: int | float, language: str = "sv") -> str:
    """A rate's change in percentage points, as Plausible shows the bounce rate's."""
    return f"{format_points(now, before, language)}\u00a0{POINTS[language]}"


def duration(seconds: int | float, language: str = "sv") -> str:
    """A visit's length: 42 → '42 s', 372 → '6 min 12 s', 3720 → '1 tim 2 min' ('1 h', en)."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{format_number(hours, None, language)}\u00a0{HOURS[language]} {minutes}\u00a0min"
    if minutes:
        return f"{minutes}\u00a0min {secs}\u00a0s"
    return f"{secs}\u00a0s"


def decimal(value: float) -> str:
    """1.5 → '1,5' (Swedish decimal comma), at most two decimals."""
    return format_number(round(value, 2))
