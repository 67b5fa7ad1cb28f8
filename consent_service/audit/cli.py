"""`consent-service audit ...`: verify, keygen, checkpoint, export."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import IO, Any

import click
from flask.cli import with_appcontext

from consent_service.audit.filters import ACTIONS, CATEGORIES, SOURCES, FilterError, parse_filter


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A checkpoint kept outside the database: printed by `audit checkpoint`, or a "
    "transparency-log checkpoint (signed note) from /api/v1/log/checkpoint.",
)
@click.option(
    "--public-key",
    "public_keys",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Another key that checkpoints may be signed with (e.g. one rotated out). Repeatable.",
)
@with_appcontext
def verify(checkpoint_file: Path | None, public_keys: tuple[Path, ...]) -> None:
    """Recompute the chain and check every checkpoint; exit 1 naming the first bad entry."""
    from consent_service.admin.access import cli_actor, record_access
    from consent_service.audit.checkpoints import (
        CheckpointFormatError,
        CheckpointKeyError,
        load_public_key,
        parse_checkpoint,
    )
    from consent_service.audit.note import NoteError
    from consent_service.audit.note import parse_checkpoint as parse_note_checkpoint
    from consent_service.audit.services import verify_log
    from consent_service.db import db

    try:
        keys = [load_public_key(p) for p in public_keys]
        external, notes = [], []
        if checkpoint_file is not None:
            try:
                text = checkpoint_file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise CheckpointFormatError(f"cannot read {checkpoint_file}: {exc}") from None
            if "\n\n\u2014 " in text:
                # A transparency-log checkpoint (C2SP signed note) from /api/v1/log/checkpoint.
                try:
                    parse_note_checkpoint(text.rpartition("\n\n")[0] + "\n")
                except NoteError as exc:
                    raise CheckpointFormatError(
                        f"the checkpoint note is malformed: {exc}"
                    ) from None
                notes.append(text)
            else:
                external.append(parse_checkpoint(text))
    except (CheckpointKeyError, CheckpointFormatError) as exc:
        _fail(str(exc))
    report = verify_log(db.session, external, keys, notes)
    if checkpoint_file is not None and any(u.startswith("the given") for u in report.unchecked):
        _fail(
            "the given checkpoint is signed by a key that is not configured; "
            "pass its public key with --public-key"
        )
    db.session.rollback()
    for line in report.lines():
        click.echo(line, err=not report.ok)
    record_access(
        cli_actor(),
        "verify",
        {"checkpoint_file": bool(checkpoint_file)},
        outcome="ok" if report.ok else "broken",
        summary=report.lines()[0],
    )
    sys.exit(0 if report.ok else 1)


@click.command("keygen")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the private key (default: CONSENT_CHECKPOINT_KEY).",
)
@with_appcontext
def keygen(out: Path | None) -> None:
    """Create an Ed25519 checkpoint key (mode 0600) and print its public key."""
    from consent_service.audit.checkpoints import (
        CheckpointKeyError,
        configured_key_path,
        fingerprint,
        public_key_pem,
        raw_public_key,
        write_private_key,
    )

    path = out or configured_key_path()
    if path is None:
        _fail("give --out PATH (CONSENT_CHECKPOINT_KEY is not set)")
        return
    try:
        key = write_private_key(path)
    except (CheckpointKeyError, OSError) as exc:
        _fail(str(exc))
        return
    public = key.public_key()
    click.echo(f"private key written to {path} (mode 0600); keep it out of database backups")
    click.echo(public_key_pem(public), nl=False)
    click.echo(f"public key (base64): {base64.b64encode(raw_public_key(public)).decode()}")
    click.echo(f"fingerprint (sha256): {fingerprint(public)}")
    from consent_service.audit.note import verifier_key
    from consent_service.audit.sequencer import log_origin

    # The same key signs the transparency log's checkpoints; witnesses pin this form of it.
    click.echo(f"log verifier key (C2SP note): {verifier_key(log_origin(), public)}")


@click.command("checkpoint")
@with_appcontext
def checkpoint() -> None:
    """Sign the current chain head, store it and print it (file it outside the database)."""
    from consent_service.admin.access import cli_actor, record_access
    from consent_service.audit.checkpoints import (
        CheckpointChainError,
        CheckpointKeyError,
        current_tree_head,
        signing_key,
        store_checkpoint,
    )
    from consent_service.db import db

    try:
        key = signing_key()
        # The tree head is computed from a read snapshot, outside the write lock.
        head = current_tree_head(db.session)
    except (CheckpointKeyError, CheckpointChainError) as exc:
        _fail(str(exc))
        return
    db.session.rollback()
    with db.writing() as session:
        signed = store_checkpoint(session, key, head)
    record_access(cli_actor(), "checkpoint", {"seq": signed.seq}, summary=f"seq {signed.seq}")
    click.echo(json.dumps(signed.document(), sort_keys=True))


@click.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "ndjson"]), required=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write to this file instead of standard output.")  # fmt: skip
@click.option("--consent-id")
@click.option("--date-from", metavar="YYYY-MM-DD")
@click.option("--date-to", metavar="YYYY-MM-DD")
@click.option("--action", type=click.Choice(ACTIONS))
@click.option("--category", type=click.Choice(CATEGORIES))
@click.option("--policy-version")
@click.option("--source", type=click.Choice(SOURCES))
@click.option("--site")
@click.option("--progress/--no-progress", default=True, help="Progress bar on standard error.")
@with_appcontext
def export(fmt: str, output: Path | None, progress: bool, **filters: Any) -> None:
    """Stream the consent log (or the filtered part) as CSV or NDJSON, with its checkpoint."""
    from consent_service.admin.access import cli_actor, record_access
    from consent_service.audit.export import csv_lines, export_items, export_size, ndjson_lines
    from consent_service.db import db

    try:
        audit_filter = parse_filter({k: v for k, v in filters.items() if v is not None})
    except FilterError as exc:
        _fail(f"--{exc.field.replace('_', '-')}: {exc.message}")
        return
    session = db.session
    total = export_size(session, audit_filter)
    record_access(cli_actor(), "export", {"format": fmt, **audit_filter.as_params()},
                  summary=f"{fmt}, {total} rows")  # fmt: skip
    items = export_items(session, audit_filter)
    stream: IO[str]
    stream = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout  # noqa: SIM115
    bar = click.progressbar(
        length=total, label="exporting", file=sys.stderr, show_pos=True
    ) if progress else None  # fmt: skip

    def counted(step: int = 1000) -> Any:
        done = 0
        for item in items:
            yield item
            if item.get("type") not in ("export", "checkpoint", "inclusion"):
                done += 1
                if bar is not None and done % step == 0:
                    bar.update(step)
        if bar is not None:
            bar.update(done % step)

    lines = csv_lines(counted()) if fmt == "csv" else ndjson_lines(counted())
    try:
        if bar is not None:
            bar.__enter__()
        for chunk in lines:
            stream.write(chunk)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
        if output:
            stream.close()
        else:
            stream.flush()
    session.rollback()


audit_group = click.Group("audit", help="The consent log: verification, checkpoints, exports.")
for _command in (verify, keygen, checkpoint, export):
    audit_group.add_command(_command)


@click.command("witness")
@click.argument("url")
@click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where the last accepted checkpoint is kept between runs (JSON).",
)
def witness(url: str, state_file: Path | None) -> None:
    """Fetch the log's checkpoint at URL and check it extends the last one seen.

    Exit 0 when consistent, 1 with an ALERT on a fork, a rollback or a bad signature,
    2 when the log could not be read.
    """
    from consent_service.audit.witness import (
        WitnessAlert,
        WitnessUnreachable,
        load_state,
        save_state,
    )
    from consent_service.audit.witness import witness as check

    try:
        state = load_state(state_file)
        new_state = check(url, state)
    except WitnessAlert as exc:
        click.echo(f"ALERT: {exc}", err=True)
        sys.exit(1)
    except WitnessUnreachable as exc:
        _fail(str(exc))
        return
    if state_file is not None:
        save_state(state_file, new_state)
    click.echo(new_state["last"])


@click.command("mirror")
@click.argument("url")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--entries", is_flag=True, help="Also copy the entry bundles (if the log publishes them)."
)
def mirror(url: str, directory: Path, entries: bool) -> None:
    """Copy the log's C2SP tiles at URL into DIRECTORY, checked against its signed checkpoint.

    Witnesses the log first (state in DIRECTORY/witness.json); fetches only tiles the
    directory lacks. Exit codes as for `log witness`.
    """
    from consent_service.audit.mirror import mirror as copy
    from consent_service.audit.witness import WitnessAlert, WitnessUnreachable

    try:
        state = copy(url, directory, entries=entries)
    except WitnessAlert as exc:
        click.echo(f"ALERT: {exc}", err=True)
        sys.exit(1)
    except WitnessUnreachable as exc:
        _fail(str(exc))
        return
    click.echo(state["last"])


log_group = click.Group(
    "log", help="The consent log as a transparency log: witness it, mirror its tiles."
)
log_group.add_command(witness)
log_group.add_command(mirror)
