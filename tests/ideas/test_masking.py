"""What the open idea page masks: a table of texts and what must become of them."""

from __future__ import annotations

import pytest

from consent_service.ideas.masking import (
    EMAIL,
    PERSONNUMMER,
    PHONE,
    SAMORDNINGSNUMMER,
    find_personal_data,
    luhn_valid,
    mask_personal_data,
)

PNR = "[personnummer borttaget]"
SNR = "[samordningsnummer borttaget]"
MAIL = "[e-postadress borttagen]"
TEL = "[telefonnummer borttaget]"

CASES = [
    # personnummer: Skatteverket's example 811218-9876 in every written form
    ("Mitt personnummer är 811218-9876.", f"Mitt personnummer är {PNR}.", [PERSONNUMMER]),
    ("811218+9876 (över hundra år)", f"{PNR} (över hundra år)", [PERSONNUMMER]),
    ("8112189876", PNR, [PERSONNUMMER]),
    ("19811218-9876", PNR, [PERSONNUMMER]),
    ("198112189876", PNR, [PERSONNUMMER]),
    ("pnr:19811218-9876,", f"pnr:{PNR},", [PERSONNUMMER]),
    # a wrong check digit, month or day: not an identity number
    ("811218-9875", "811218-9875", []),
    ("19811218-9875", "19811218-9875", []),
    ("811318-9876", "811318-9876", []),
    ("811200-9876", "811200-9876", []),
    # inside a longer number or word: left alone
    ("811218-98765", "811218-98765", []),
    ("A811218-9876", "A811218-9876", []),
    # samordningsnummer: the day plus 60
    ("Samordningsnummer 701063-2391", f"Samordningsnummer {SNR}", [SAMORDNINGSNUMMER]),
    ("197010632391", SNR, [SAMORDNINGSNUMMER]),
    ("701063-2390", "701063-2390", []),
    ("701093-2391", "701093-2391", []),  # day 33 is no day
    # e-mail addresses
    ("Mejla ada@example.se.", f"Mejla {MAIL}.", [EMAIL]),
    ("Skriv till förnamn.efternamn+idé@uppsala.se", f"Skriv till {MAIL}", [EMAIL]),
    ("ingen adress @ här", "ingen adress @ här", []),
    # phone numbers
    ("Ring 070-123 45 67", f"Ring {TEL}", [PHONE]),
    ("073-1234567", TEL, [PHONE]),
    ("0701234567", TEL, [PHONE]),
    ("0701-23 45 67", TEL, [PHONE]),
    ("+46 70 123 45 67", TEL, [PHONE]),
    ("+46701234567", TEL, [PHONE]),
    ("+46 (0)70-123 45 67", TEL, [PHONE]),
    ("0046 70 123 45 67", TEL, [PHONE]),
    ("Växeln 018-727 00 00", f"Växeln {TEL}", [PHONE]),
    ("018-12 34 56", TEL, [PHONE]),
    ("(018) 12 34 56", TEL, [PHONE]),
    ("08-123 456 78", TEL, [PHONE]),
    # ordinary numbers: years, amounts, dates, postal codes, case numbers, times
    ("Sedan 1998 och i år 2026", "Sedan 1998 och i år 2026", []),
    ("Det kostar 2 000 000 kr", "Det kostar 2 000 000 kr", []),
    ("1 500 kr per år, 150000 kr totalt", "1 500 kr per år, 150000 kr totalt", []),
    ("Mötet 2026-12-02 kl. 08.30", "Mötet 2026-12-02 kl. 08.30", []),
    ("Den 02-12-2026", "Den 02-12-2026", []),
    ("Postnummer 753 75 Uppsala", "Postnummer 753 75 Uppsala", []),
    ("Ärende KS-2026-0123", "Ärende KS-2026-0123", []),
    ("Buss 801 går 06 15", "Buss 801 går 06 15", []),
    ("1500000000", "1500000000", []),
    # several in one text, in order
    (
        "Ada, 811218-9876, ada@example.se, 070-123 45 67",
        f"Ada, {PNR}, {MAIL}, {TEL}",
        [PERSONNUMMER, EMAIL, PHONE],
    ),
]


@pytest.mark.parametrize(("text", "masked", "kinds"), CASES)
def test_masking_table(text: str, masked: str, kinds: list[str]) -> None:
    result = mask_personal_data(text)
    assert result.text == masked
    assert list(result.found) == kinds


def test_luhn_over_the_ten_digit_form() -> None:
    assert luhn_valid("8112189876")
    assert not luhn_valid("8112189875")
    assert luhn_valid("7010632391")


def test_replacement_texts_per_language() -> None:
    english = {
        PERSONNUMMER: "[ID number removed]",
        SAMORDNINGSNUMMER: "[coordination number removed]",
        EMAIL: "[email removed]",
        PHONE: "[phone number removed]",
    }
    result = mask_personal_data("811218-9876 / ada@example.se", english)
    assert result.text == "[ID number removed] / [email removed]"
    assert result.counts() == {PERSONNUMMER: 1, EMAIL: 1}


def test_findings_do_not_overlap() -> None:
    findings = find_personal_data("ada.0701234567@example.se 0701234567")
    assert [f.kind for f in findings] == [EMAIL, PHONE]
