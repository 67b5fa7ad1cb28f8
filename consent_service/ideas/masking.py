"""Personal data in ideas, found and masked before anything is shown publicly.

An idea is a public record (allmän handling), but a citizen may well write their own or a
neighbour's personal identity number, e-mail address or phone number into it. The open idea
page shows ideas only through `mask_personal_data`; the team's idea page says what was masked.

Pure functions, no Flask: what counts as which kind is a table of cases in
tests/ideas/test_masking.py.

- Personal identity numbers (personnummer) YYMMDD-NNNN, YYMMDD+NNNN (over 100 years old),
  YYMMDDNNNN, YYYYMMDD-NNNN and YYYYMMDDNNNN, with a valid month and day and a valid Luhn
  check digit over the ten-digit form. Coordination numbers (samordningsnummer) are the same
  with 60 added to the day. A number that fails the check is left as it is: a ten-digit order
  or case number is not personal data, and one in ten of those would pass by chance anyway.
- E-mail addresses: local@domain.tld.
- Swedish phone numbers: a national number starting with 0 (07x-xxx xx xx, 018-12 34 56,
  08-123 456 78) or the international form +46 / 0046 (with or without "(0)"), 7 to 9 digits
  after the leading 0 or country code, grouped by spaces or hyphens. A number that does not
  start with 0 or +46 (a year, an amount, a date, a postal code) is never a phone number.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

PERSONNUMMER = "personnummer"
SAMORDNINGSNUMMER = "samordningsnummer"
EMAIL = "email"
PHONE = "phone"
KINDS = (PERSONNUMMER, SAMORDNINGSNUMMER, EMAIL, PHONE)

SWEDISH = {
    PERSONNUMMER: "[personnummer borttaget]",
    SAMORDNINGSNUMMER: "[samordningsnummer borttaget]",
    EMAIL: "[e-postadress borttagen]",
    PHONE: "[telefonnummer borttaget]",
}

# Not inside a longer run of digits or word: "A811218-9876" and "1811218-98765" are not
# identity numbers. The 12-digit form takes a century of 18, 19 or 20.
_IDENTITY = re.compile(
    r"(?<![\w+-])(?:(?P<century>18|19|20)?(?P<date>\d{6})(?P<sep>[-+]?)(?P<tail>\d{4}))(?![\w-])"
)
_EMAIL = re.compile(
    r"(?<![\w.+-])[\w.!#$%&'*+/=?^`{|}~-]+@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}(?![\w-])"
)
# A leading 0 or +46/0046, then groups of digits. The look-behinds keep "2 000 000 kr" from
# being read as a number starting at its "000".
_PHONE = re.compile(
    r"(?<![\w+])(?<!\d[ -])"
    r"(?P<prefix>(?:\+|00)46[ -]?(?:\(0\)[ -]?)?|\(?0)"
    r"(?P<rest>[1-9]\d{0,3}\)?(?:[ -]?\d){4,8})"
    r"(?![\w-])"
)


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Masked:
    """A text with its personal data replaced, and what was found (one kind per finding)."""

    text: str
    found: tuple[str, ...]

    def counts(self) -> dict[str, int]:
        return {kind: self.found.count(kind) for kind in KINDS if kind in self.found}


def luhn_valid(digits: str) -> bool:
    """The Luhn check (weights 2, 1, 2, … from the left over ten digits) as Skatteverket uses."""
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def identity_kind(date: str, tail: str) -> str | None:
    """PERSONNUMMER or SAMORDNINGSNUMMER for YYMMDD and NNNN, or None when it is neither."""
    month, day = int(date[2:4]), int(date[4:6])
    if not 1 <= month <= 12:
        return None
    kind = PERSONNUMMER
    if day > 60:
        kind, day = SAMORDNINGSNUMMER, day - 60
    if not 1 <= day <= 31:
        return None
    return kind if luhn_valid(date + tail) else None


def find_personal_data(text: str) -> list[Finding]:
    """Every identity number, e-mail address and phone number in `text`, in order."""
    findings: list[Finding] = []
    taken: list[tuple[int, int]] = []

    def free(start: int, end: int) -> bool:
        return all(end <= a or start >= b for a, b in taken)

    for match in _IDENTITY.finditer(text):
        kind = identity_kind(match["date"], match["tail"])
        if kind is not None:
            findings.append(Finding(kind, match.start(), match.end()))
            taken.append((match.start(), match.end()))
    for match in _EMAIL.finditer(text):
        if free(match.start(), match.end()):
            findings.append(Finding(EMAIL, match.start(), match.end()))
            taken.append((match.start(), match.end()))
    for match in _PHONE.finditer(text):
        # Digits after the leading 0 or the country code: 7 to 9 in a Swedish number. One
        # hyphen at most (after the area code): "02-12-2026" is a date.
        digits = sum(c.isdigit() for c in match["rest"])
        if 7 <= digits <= 9 and match[0].count("-") <= 1 and free(match.start(), match.end()):
            findings.append(Finding(PHONE, match.start(), match.end()))
            taken.append((match.start(), match.end()))
    findings.sort(key=lambda f: f.start)
    return findings


def mask_personal_data(text: str, replacements: Mapping[str, str] = SWEDISH) -> Masked:
    """`text` with each finding replaced by its kind's text (Swedish by default)."""
    findings = find_personal_data(text)
    if not findings:
        return Masked(text, ())
    parts: list[str] = []
    position = 0
    for finding in findings:
        parts.append(text[position : finding.start])
        parts.append(replacements[finding.kind])
        position = finding.end
    parts.append(text[position:])
    return Masked("".join(parts), tuple(f.kind for f in findings))
