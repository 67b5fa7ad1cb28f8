"""Streamed exports of the consent log (CSV and NDJSON) that can be verified on their own.

An export starts with a header line (`"type": "export"`) and, when one exists, the latest
signed checkpoint (`"type": "checkpoint"`, placed first so that a verifier meets it before
the entry it covers). Then, in chain order:

* an entry: its chained record (`seq, site, occurred_at, consent_id, action, choices,
  policy_version, text_hash, language, source, gpc`) plus `prev_hash` and `hash`;
* in a complete (unfiltered) export also every other chain position: purge records
  (`"type": "purge"`), staff evidence such as a scan report's digest (`"type": "event"`,
  with its `kind`) and the links of records removed by a purge (`"type": "removed"`);
* in a filtered export, after each entry the checkpoint covers, an RFC 6962 inclusion proof
  (`"type": "inclusion"`, `seq, tree_size, audit_path`) against the checkpoint's signed
  Merkle tree head: one citizen's entries can be verified without the rest of the log.

`python -m consent_service.audit.verify_export` checks a file with only the public key.
Rows are read with `yield_per` from one read transaction: memory stays flat at any size.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from consent_service.audit.chain import CONSENT_CHAIN, chain_rows, entry_row_record
from consent_service.audit.checkpoints import latest_checkpoint
from consent_service.audit.filters import AuditFilter
from consent_service.audit.merkle import inclusion_proofs
from consent_service.audit.models import ChainLink, ConsentEntry, LogEvent, PurgeRecord
from consent_service.db import utcnow
from consent_service.web.spreadsheet import csv_rows

FORMATS = ("csv", "ndjson")
EXPORT_VERSION = 1
BATCH = 5000
# Filtered exports up to this many entries carry inclusion proofs (about 2 KB each).
PROOF_LIMIT = 10_000
CSV_COLUMNS = (
    "type", "seq", "site", "occurred_at", "consent_id", "action", "functional", "statistics",
    "policy_version", "text_hash", "language", "source", "gpc", "prev_hash", "digest", "hash",
    "data",
)  # fmt: skip
_E = ConsentEntry.__table__.c
_L = ChainLink.__table__.c


def export_size(session: Session, audit_filter: AuditFilter) -> int:
    """How many chain rows the export will carry (for the progress bar)."""
    if audit_filter.empty:
        return session.scalar(select(func.count()).select_from(ChainLink)) or 0
    stmt = audit_filter.apply(select(func.count()).select_from(ConsentEntry))
    return session.scalar(stmt) or 0


def export_items(session: Session, audit_filter: AuditFilter) -> Iterator[dict[str, Any]]:
    """The export's objects in order: header, checkpoint, then one per chain row."""
    complete = audit_filter.empty
    checkpoint = latest_checkpoint(session)
    proofs: dict[int, list[str]] = {}
    if not complete and checkpoint is not None:
        proofs = _inclusion_proofs(session, audit_filter, checkpoint.seq)
    yield {
        "type": "export",
        "v": EXPORT_VERSION,
        "chain": CONSENT_CHAIN,
        "generated_at": utcnow().isoformat(timespec="seconds"),
        "filters": audit_filter.as_params(),
        # Complete: every chain position is present, so the whole chain can be recomputed.
        "complete": complete,
        # Filtered: entries the checkpoint covers carry an RFC 6962 inclusion proof.
        "inclusion_proofs": bool(proofs),
    }
    if checkpoint is not None:
        yield checkpoint.document()
    if complete:
        purges: dict[int, PurgeRecord | LogEvent] = {
            p.seq: p for p in session.scalars(select(PurgeRecord))
        }
        purges.update((e.seq, e) for e in session.scalars(select(LogEvent)))
        for row in chain_rows(session, BATCH):
            seq, prev_hash, digest, hash_, purged_in, entry_seq = row[:6]
            if entry_seq is not None:
                line = entry_row_record(row[5:])
            elif seq in purges:
                line = purges[seq].record()
            else:
                line = {"type": "removed", "seq": seq, "purged_in": purged_in, "digest": digest}
            line["prev_hash"], line["hash"] = prev_hash, hash_
            yield line
        return
    stmt = audit_filter.apply(
        select(
            _E.seq,
            _E.site,
            _E.occurred_at,
            _E.consent_id,
            _E.action,
            _E.functional,
            _E.statistics,
            _E.policy_version,
            _E.text_hash,
            _E.language,
            _E.source,
            _E.gpc,
            _L.prev_hash,
            _L.hash,
        )
        .join(ChainLink.__table__, _L.seq == _E.seq)
        .order_by(_E.seq)
        .execution_options(yield_per=BATCH)
    )
    entry_row: Any
    for entry_row in session.execute(stmt):
        line = entry_row_record(entry_row)
        line["prev_hash"], line["hash"] = entry_row[12], entry_row[13]
        yield line
        path = proofs.get(line["seq"] - 1)
        if path is not None and checkpoint is not None:
            yield {
                "type": "inclusion",
                "seq": line["seq"],
                "tree_size": checkpoint.seq,
                "audit_path": path,
            }


def _inclusion_proofs(
    session: Session, audit_filter: AuditFilter, tree_size: int
) -> dict[int, list[str]]:
    """Audit paths for the filtered entries up to the checkpoint, or {} when too many.

    One pass over the link hashes; memory grows with the number of proofs, so a large
    filtered export goes without (its entries are verified from a complete export).
    """
    stmt = audit_filter.apply(select(ConsentEntry.seq)).where(ConsentEntry.seq <= tree_size)
    targets = list(session.scalars(stmt.limit(PROOF_LIMIT + 1)))
    if not targets or len(targets) > PROOF_LIMIT:
        return {}
    hashes = session.scalars(
        select(ChainLink.hash)
        .where(ChainLink.seq <= tree_size)
        .order_by(ChainLink.seq)
        .execution_options(yield_per=BATCH)
    )
    return inclusion_proofs(hashes, tree_size, [seq - 1 for seq in targets])


def ndjson_lines(items: Iterable[dict[str, Any]]) -> Iterator[str]:
    encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True).encode
    for item in items:
        yield encode(item) + "\n"


def _csv_row(item: dict[str, Any]) -> list[str]:
    kind = item.get("type", "entry")
    cells: dict[str, Any] = {"type": kind, "seq": item.get("seq", "")}
    if kind == "entry":
        choices = item["choices"]
        cells.update(item)
        cells.update(functional=choices["functional"], statistics=choices["statistics"])
        cells["type"] = "entry"
    elif kind in ("purge", "removed", "event"):
        record = {k: v for k, v in item.items() if k not in ("prev_hash", "hash", "digest")}
        cells.update(prev_hash=item["prev_hash"], hash=item["hash"])
        cells.update(digest=item.get("digest", ""), data=json.dumps(record, sort_keys=True))
    else:
        cells.update(hash=item.get("hash", ""), data=json.dumps(item, sort_keys=True))
    out = []
    for column in CSV_COLUMNS:
        value = cells.get(column, "")
        if isinstance(value, bool):
            value = "true" if value else "false"
        out.append(str(value))
    return out


def csv_lines(items: Iterable[dict[str, Any]], flush_every: int = 500) -> Iterator[str]:
    """The export as CSV for programs (`verify_export`): codes, ISO 8601, no BOM."""
    rows = (_csv_row(item) for item in items)
    return csv_rows(CSV_COLUMNS, rows, for_people=False, flush_every=flush_every)


# The admin's table for a spreadsheet: the search page's columns, in Swedish.
PEOPLE_COLUMNS = (
    "Nr", "Tid (UTC)", "Samtyckes-ID", "Händelse", "Funktionella", "Statistik",
    "Policyversion", "Källa", "Språk", "Webbplats", "Global Privacy Control",
)  # fmt: skip


def people_lines(
    session: Session, audit_filter: AuditFilter, labels: Mapping[str, Mapping[str, str]]
) -> Iterator[str]:
    """The filtered entries as a Swedish table for Excel (BOM, Ja/Nej, labels for codes).

    For reading, not for proof: without hashes and checkpoint it cannot be verified; the
    CSV and NDJSON exports can. `labels` maps `actions` and `sources` codes to their text.
    Entries only, read straight from the log (no chain walk, no inclusion proofs).
    """
    actions, sources = labels["actions"], labels["sources"]
    stmt = audit_filter.apply(
        select(
            _E.seq, _E.site, _E.occurred_at, _E.consent_id, _E.action, _E.functional,
            _E.statistics, _E.policy_version, _E.text_hash, _E.language, _E.source, _E.gpc,
        )
        .order_by(_E.seq)
        .execution_options(yield_per=BATCH)
    )  # fmt: skip
    rows = (
        (
            item["seq"],
            dt.datetime.fromisoformat(item["occurred_at"]),
            item["consent_id"],
            actions.get(item["action"], item["action"]),
            item["choices"]["functional"],
            item["choices"]["statistics"],
            item["policy_version"],
            sources.get(item["source"], item["source"]),
            item["language"],
            item["site"],
            item["gpc"],
        )
        for item in map(entry_row_record, session.execute(stmt))
    )
    return csv_rows(PEOPLE_COLUMNS, rows, for_people=True)


def export_text(session: Session, audit_filter: AuditFilter, fmt: str) -> Iterator[str]:
    items = export_items(session, audit_filter)
    return csv_lines(items) if fmt == "csv" else ndjson_lines(items)
