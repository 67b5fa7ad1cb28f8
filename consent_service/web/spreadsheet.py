"""The one CSV writer: every cell opens as text in a spreadsheet, never as a formula.

Excel and LibreOffice run a cell starting with `= + - @` (or a tab or carriage return,
which they skip before looking) as a formula: `=HYPERLINK(...)` in an idea's title would
run on the innovation team's machine. Such cells get a leading apostrophe (OWASP ASVS 5.0
1.2.10). Every CSV file the service writes goes through `csv_rows`, so no export can forget.

Two kinds of file:

* `for_people=True` (the admin's downloads): starts with a UTF-8 byte order mark, without
  which Excel reads the file as Windows-1252 and shows "Ã¥" for "å". Callers give Swedish
  column names and values (see `people_cell` for booleans, dates and decimals).
* `for_people=False` (the command line's exports, verified by programs): no BOM, codes and
  ISO 8601 as given, `true`/`false` for booleans — a contract that does not change.

Both keep `,` as the separator and CRLF line ends (RFC 4180).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence

from consent_service.web.formatting import format_date, format_datetime, format_number

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def machine_cell(value: object) -> str:
    """A value as programs read it: ISO 8601, `true`/`false`, nothing for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def people_cell(value: object) -> str:
    """A value as a Swedish reader expects it: Ja/Nej, 2026-01-31 14:05, 0,75."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Ja" if value else "Nej"
    if isinstance(value, dt.datetime):
        return format_datetime(value, seconds=True)
    if isinstance(value, dt.date):
        return format_date(value)
    if isinstance(value, float):
        # No digit grouping: Excel reads "1234,5" as a number, "1 234,5" as text.
        return format_number(value).replace("\u00a0", "")
    return str(value)


def csv_rows(
    header: Sequence[object],
    rows: Iterable[Sequence[object]],
    *,
    for_people: bool,
    flush_every: int = 500,
) -> Iterator[str]:
    """Stream a CSV file as text chunks: the header, then `rows`, every cell made safe.

    Chunks come every `flush_every` rows, so a response or a CLI writes a large file with
    flat memory (`Response(stream_with_context(csv_rows(...)))`, `out.write(chunk)`).
    """
    cell = people_cell if for_people else machine_cell
    buffer = io.StringIO()
    if for_people:
        buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(cell(v)) for v in header])
    pending = 0
    for row in rows:
        writer.writerow([neutralise(cell(v)) for v in row])
        pending += 1
        if pending >= flush_every:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()
