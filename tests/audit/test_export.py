"""Exports: streamed CSV/NDJSON carrying hashes and the checkpoint, verifiable on their own."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from consent_service.audit.export import csv_lines
from consent_service.web.spreadsheet import neutralise
from tests.audit.conftest import add_entries

ENTRY_FIELDS = {"seq", "consent_id", "action", "choices", "policy_version", "text_hash",
                "occurred_at", "prev_hash", "hash"}  # fmt: skip
VERIFIER = Path(__file__).resolve().parents[2] / "consent_service" / "audit" / "verify_export.py"


def export(runner: FlaskCliRunner, tmp_path: Path, fmt: str, *args: str) -> Path:
    out = tmp_path / f"export.{fmt}"
    result = runner.invoke(args=["audit", "export", "--format", fmt, "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    return out


def run_verifier(export_file: Path, *args: str, cwd: Path | None = None) -> tuple[int, str]:
    """Run the verifier as an auditor would: a separate process, the file copied alone."""
    script = (cwd or export_file.parent) / "verify_export.py"
    shutil.copy(VERIFIER, script)
    done = subprocess.run(
        [sys.executable, "-I", str(script), str(export_file), *args],
        capture_output=True, text=True, check=False, cwd=script.parent,
    )  # fmt: skip
    return done.returncode, done.stdout + done.stderr


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def log(app: Flask, runner: FlaskCliRunner) -> None:
    add_entries(app, 3, start=dt.datetime.now(dt.UTC) - dt.timedelta(days=1500))
    add_entries(app, 4, statistics=True)
    assert runner.invoke(args=["purge"]).exit_code == 0  # entries 1-3 purged, purge is 8
    add_entries(app, 2, action="update")
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0


@pytest.mark.usefixtures("log")
def test_ndjson_export_carries_every_position_and_the_checkpoint(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    items = lines(export(runner, tmp_path, "ndjson"))
    assert items[0]["type"] == "export" and items[0]["complete"] is True
    assert items[1]["type"] == "checkpoint" and items[1]["seq"] == 10
    body = items[2:]
    assert [i["seq"] for i in body] == list(range(1, 11))
    assert [i.get("type") for i in body] == ["removed"] * 3 + [None] * 4 + ["purge"] + [None] * 2
    for item in body:
        if "type" not in item:
            assert item.keys() >= ENTRY_FIELDS


@pytest.mark.usefixtures("log")
@pytest.mark.parametrize("fmt", ["ndjson", "csv"])
def test_a_complete_export_verifies_with_only_the_public_key(
    runner: FlaskCliRunner, tmp_path: Path, fmt: str
) -> None:
    public = tmp_path / "public.pem"
    private = serialization.load_pem_private_key(
        (tmp_path / "checkpoint.pem").read_bytes(), password=None
    )
    public.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    file = export(runner, tmp_path, fmt)
    elsewhere = tmp_path / "auditor"
    elsewhere.mkdir()
    code, output = run_verifier(file, "--public-key", str(public), cwd=elsewhere)
    assert code == 0, output
    assert "complete chain verified: 10 positions, 6 entries, 3 removed" in output
    assert "the given public key" in output


@pytest.mark.usefixtures("log")
def test_a_tampered_export_fails_verification(runner: FlaskCliRunner, tmp_path: Path) -> None:
    file = export(runner, tmp_path, "ndjson")
    original = file.read_text().splitlines()

    def check(changed: list[str]) -> tuple[int, str]:
        file.write_text("\n".join(changed) + "\n")
        return run_verifier(file)

    edited = [line.replace('"statistics":true', '"statistics":false', 1) for line in original]
    code, output = check(edited)
    assert code == 1 and "entry 4: its contents do not match its hash" in output
    code, output = check(original[:-2])  # the last two entries cut off
    assert code == 1 and "cut off" in output
    code, output = check(original[:5] + original[6:])  # one entry left out
    assert code == 1 and "missing" in output
    swapped = [*original[:5], original[6], original[5], *original[7:]]
    assert check(swapped)[0] == 1
    bad_sig = [original[0], original[1].replace('"signature":"', '"signature":"AAAA', 1)]
    code, output = check(bad_sig + original[2:])
    assert code == 1 and "signature" in output
    assert check(original)[0] == 0


@pytest.mark.usefixtures("log")
def test_a_filtered_export_holds_only_matching_entries_with_inclusion_proofs(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    add_entries(app, 1, action="update")  # entry 11: newer than the checkpoint at 10
    file = export(runner, tmp_path, "ndjson", "--action", "update")
    items = lines(file)
    assert items[0]["complete"] is False and items[0]["filters"] == {"action": "update"}
    assert items[0]["inclusion_proofs"] is True
    body = [(i.get("type"), i["seq"]) for i in items[2:]]
    assert body == [(None, 9), ("inclusion", 9), (None, 10), ("inclusion", 10), (None, 11)]
    assert items[3]["tree_size"] == 10 and len(items[3]["audit_path"]) == 2  # 9 of 10 leaves
    code, output = run_verifier(file)
    assert code == 0, output
    assert "3 entries each match their chain hash" in output
    assert "2 of them proven included" in output and "1 without a proof" in output
    csv_file = export(runner, tmp_path, "csv", "--action", "update")
    code, output = run_verifier(csv_file)
    assert code == 0 and "2 of them proven included" in output, output

    # A proof that does not lead to the signed tree head is refused.
    text = file.read_text()
    path = items[3]["audit_path"]
    assert isinstance(path, list)
    file.write_text(text.replace(path[0], "0" * 64, 1))
    code, output = run_verifier(file)
    assert code == 1 and "entry 9: not included in the signed checkpoint's tree" in output


def test_bad_filters_are_refused_with_a_clear_message(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    for args in (
        ["--date-from", "2024-02-30"],
        ["--consent-id", "'; DROP TABLE x"],
        ["--policy-version", "-1"],
        ["--date-from", "2025-01-02", "--date-to", "2025-01-01"],
    ):
        result = runner.invoke(args=["audit", "export", "--format", "csv", *args])
        assert result.exit_code == 2 and "error: --" in result.output, (args, result.output)
    result = runner.invoke(args=["audit", "export", "--format", "xml"])
    assert result.exit_code == 2


@pytest.mark.parametrize("value", ["=1+1", "+cmd", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_csv_cells_cannot_start_a_formula(value: str) -> None:
    assert neutralise(value) == "'" + value
    text = "".join(csv_lines([{"type": "note", "seq": 1, "hash": value}]))
    row = list(csv.reader(io.StringIO(text)))[1]
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)
    assert neutralise("2026-01-01") == "2026-01-01"


def test_the_machine_csv_has_no_bom_and_keeps_codes() -> None:
    """`verify_export` and other programs read it: the columns are a contract."""
    text = "".join(csv_lines([{"type": "note", "seq": 1, "hash": "abc"}]))
    assert text.startswith("type,seq,site,occurred_at,consent_id,action,functional,")
    assert text.encode()[:3] != b"\xef\xbb\xbf"


@pytest.mark.usefixtures("log")
def test_the_ui_offers_a_swedish_table_for_excel(officer: FlaskClient) -> None:
    page = officer.get("/admin/audit/").get_data(as_text=True)
    assert "format=table" in page and "Exportera som tabell för Excel" in page
    response = officer.get("/admin/audit/export?format=table&action=grant")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "samtyckeslogg-tabell-" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body[:3] == b"\xef\xbb\xbf"  # UTF-8 BOM: Excel reads å ä ö
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Nr", "Tid (UTC)", "Samtyckes-ID", "Händelse"]
    assert [r[0] for r in rows[1:]] == ["4", "5", "6", "7"]  # entries only, no checkpoint
    assert {r[3] for r in rows[1:]} == {"Samtycke givet"}
    assert {(r[4], r[5], r[10]) for r in rows[1:]} == {("Ja", "Ja", "Nej")}  # not true/false
    assert dt.datetime.strptime(rows[1][1], "%Y-%m-%d %H:%M:%S")  # Swedish: 2026-01-31 14:05:09


@pytest.mark.usefixtures("log")
def test_the_ui_export_streams_the_same_entries_as_the_command(
    runner: FlaskCliRunner, officer: FlaskClient, tmp_path: Path
) -> None:
    response = officer.get("/admin/audit/export?format=ndjson")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "application/x-ndjson"
    assert "attachment" in response.headers["Content-Disposition"]
    ui = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    cli = lines(export(runner, tmp_path, "ndjson"))
    assert ui[1:] == cli[1:]  # everything but the generation time in the header
    csv_response = officer.get("/admin/audit/export?format=csv&action=grant")
    assert csv_response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(csv_response.get_data(as_text=True))))
    assert [r["seq"] for r in rows if r["type"] == "entry"] == ["4", "5", "6", "7"]
    assert officer.get("/admin/audit/export?format=xml").status_code == 400
    assert officer.get("/admin/audit/export?format=csv&date_from=2024-99-01").status_code == 400
