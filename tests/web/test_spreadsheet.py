"""The one CSV writer: formulas neutralised, a BOM and Swedish values only in files for people."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from consent_service.web.spreadsheet import BOM, csv_rows, neutralise, people_cell

FORMULAS = ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix(BOM))))


@pytest.mark.parametrize("for_people", [True, False])
@pytest.mark.parametrize("formula", FORMULAS)
def test_no_cell_starts_a_formula(formula: str, for_people: bool) -> None:
    """OWASP ASVS 5.0 1.2.10, in the header as in the rows, in both kinds of file."""
    text = "".join(csv_rows([formula, "b"], [[formula, "ok"]], for_people=for_people))
    for row in parse(text):
        assert row[0] == "'" + formula
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)


def test_the_guard_leaves_other_values_alone() -> None:
    assert [neutralise(v) for v in ["/ok", "2026-01-01", "a=b", "", 5, None]] == [
        "/ok", "2026-01-01", "a=b", "", 5, None,
    ]  # fmt: skip


def test_a_file_for_people_starts_with_a_bom_and_keeps_swedish_letters() -> None:
    """Without EF BB BF, Excel reads UTF-8 as Windows-1252: "Återkallat" shows as "Ã…terkallat"."""
    text = "".join(csv_rows(["Händelse", "Ja?"], [["Återkallat", True]], for_people=True))
    data = text.encode("utf-8")
    assert data[:3] == b"\xef\xbb\xbf"
    assert data.decode("utf-8-sig") == "Händelse,Ja?\r\nÅterkallat,Ja\r\n"


def test_a_file_for_machines_is_unchanged_codes_and_iso() -> None:
    when = dt.datetime(2026, 1, 31, 14, 5, 9, tzinfo=dt.UTC)
    rows = [["grant", True, False, None, when, dt.date(2026, 1, 31), 0.5, 7]]
    text = "".join(csv_rows(["action", "a", "b", "c", "at", "day", "share", "n"], rows,
                            for_people=False))  # fmt: skip
    assert text.encode()[:3] != b"\xef\xbb\xbf"
    assert text == (
        "action,a,b,c,at,day,share,n\r\n"
        "grant,true,false,,2026-01-31T14:05:09+00:00,2026-01-31,0.5,7\r\n"
    )


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (True, "Ja"),
        (False, "Nej"),
        (None, ""),
        (dt.datetime(2026, 1, 31, 14, 5, 9, tzinfo=dt.UTC), "2026-01-31 14:05:09"),
        (dt.date(2026, 1, 31), "2026-01-31"),
        (66.7, "66,7"),
        (1234.5, "1234,5"),  # no digit grouping: Excel reads "1 234,5" as text
        (2.0, "2"),
        (1234, "1234"),
        ("grant", "grant"),
    ],
)
def test_people_cells_read_as_swedish(value: object, shown: str) -> None:
    assert people_cell(value) == shown


def test_rows_stream_in_chunks() -> None:
    """A large export is written as it is read: one chunk per `flush_every` rows."""
    rows = ([str(i)] for i in range(10))
    chunks = list(csv_rows(["n"], rows, for_people=True, flush_every=4))
    assert len(chunks) == 3 and chunks[0].startswith(BOM + "n\r\n0\r\n")
    assert parse("".join(chunks)) == [["n"], *([str(i)] for i in range(10))]
