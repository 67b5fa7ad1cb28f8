"""The password rule for staff accounts: long, not common, not the user's or the service's name.

Length alone let through "Password123!" and "Sommar2024!!" (12 characters each), the first
things a guesser tries. Following NIST SP 800-63B (5.1.1.2), a new password is checked
against a list of commonly used ones (`common_passwords.txt`) rather than made to contain
digits or symbols. People add digits, a year or "!" to a common word and swap letters for
look-alikes, so the check also looks at the password's core: without digits and symbols at
either end, with 0→o, 1→i, 3→e, 4→a, @→a, $→s … undone, a unit repeated ("summersummer"),
or two common words joined ("passwordqwerty").
"""

from __future__ import annotations

import functools
import re
import string
import unicodedata
from pathlib import Path

MIN_LENGTH = 12
MAX_LENGTH = 256
COMMON_FILE = Path(__file__).with_name("common_passwords.txt")
# The service's and the municipality's own names: among the first words tried against it.
LOCAL_WORDS = ("uppsala", "samtycke", "kommun", "consent")
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
     "@": "a", "$": "s", "!": "i", "|": "i", "+": "t", "€": "e"}
)  # fmt: skip
_ENDS = string.digits + string.punctuation + " "
_SEPARATORS = re.compile(r"[\s\-_.]+")
_SYMBOLS = re.compile(r"[\W_]+")
# Runs a guesser walks along: digits, the alphabet, and rows and columns of a Swedish keyboard.
_SEQUENCES = (
    "01234567890123456789",
    "98765432109876543210",
    "abcdefghijklmnopqrstuvwxyz",
    "zyxwvutsrqponmlkjihgfedcba",
    "qwertyuiopasdfghjklzxcvbnm",
    "mnbvcxzlkjhgfdsapoiuytrewq",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    "qazwsxedcrfvtgbyhnujmikolp",
)

MESSAGES_SV = {
    "too_short": f"Lösenordet måste ha minst {MIN_LENGTH} tecken.",
    "too_long": f"Lösenordet får ha högst {MAX_LENGTH} tecken.",
    "common": "Lösenordet är för vanligt: det hör till dem som provas först vid intrång. "
    "Välj ett annat, gärna några ord som bara du sätter ihop.",
    "too_simple": "Lösenordet består av upprepningar eller följder (som 1234 eller qwerty). "
    "Välj ett annat, gärna några ord som bara du sätter ihop.",
    "contains_name": "Lösenordet får inte innehålla ditt användarnamn.",
    "contains_service": "Lösenordet får inte innehålla kommunens eller tjänstens namn.",
}
MESSAGES_EN = {
    "too_short": f"the password must be at least {MIN_LENGTH} characters",
    "too_long": f"the password must be at most {MAX_LENGTH} characters",
    "common": "the password is too common (it is among those guessed first)",
    "too_simple": "the password is made of repetitions or runs such as 1234 or qwerty",
    "contains_name": "the password must not contain the user name",
    "contains_service": "the password must not contain the municipality's or service's name",
}


def fold(text: str) -> str:
    """Case-folded, without diacritics: "Lösenord" and "losenord" are the same guess."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _forms(password: str) -> set[str]:
    """The password as typed and the cores a guesser would start from."""
    folded = fold(password)
    joined = _SEPARATORS.sub("", folded)
    stripped = joined.strip(_ENDS)
    letters_and_digits = _SYMBOLS.sub("", stripped)  # "zyxw!zyxw!zyxw" repeats "zyxw"
    forms = {folded, joined, stripped, letters_and_digits, stripped.translate(_LEET),
             joined.translate(_LEET)}  # fmt: skip
    return {f for f in forms if f}


def _repeated_unit(text: str) -> str | None:
    match = re.fullmatch(r"(.+?)\1+", text)
    return match.group(1) if match else None


def _simple(form: str) -> bool:
    if len(set(form)) <= 3:
        return True
    return len(form) >= 4 and any(form in run for run in _SEQUENCES)


def _common(form: str, common: frozenset[str]) -> bool:
    if form in common:
        return True
    # Two common words joined, each long enough not to match by chance.
    return any(form[:i] in common and form[i:] in common for i in range(4, len(form) - 3))


def password_problem(password: str, name: str) -> str | None:
    """Why `password` is refused for the account `name` (a key of MESSAGES_*), or None."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    if len(password) > MAX_LENGTH:
        return "too_long"
    forms = _forms(password)
    folded_name = fold(name).strip()
    if len(folded_name) >= 3 and any(folded_name in form for form in forms):
        return "contains_name"
    if any(word in form for form in forms for word in LOCAL_WORDS):
        return "contains_service"
    common = common_passwords()
    for form in forms:
        unit = _repeated_unit(form)
        if _common(form, common) or (unit is not None and _common(unit, common)):
            return "common"
        if _simple(form) or (unit is not None and len(unit) <= 4):
            return "too_simple"
    return None
