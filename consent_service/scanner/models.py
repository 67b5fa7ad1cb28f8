"""Scans that staff start from the admin, queued for `consent-service worker`."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from consent_service.db import Model, UTCDateTime, datetime_utc, site_id


class ScanJob(Model):
    """One scan: queued → running (with progress) → done or failed.

    The reports are kept whole (the HTML embeds its screenshots) so that what staff saw
    on a given day can be shown again later, unchanged.
    """

    __tablename__ = "scan_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[site_id]
    url: Mapped[str] = mapped_column(Text)
    max_pages: Mapped[int] = mapped_column(Integer)
    # The staff account that asked; "cli:<operator>" when queued from the command line.
    requested_by: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16), index=True)
    pages_done: Mapped[int] = mapped_column(Integer, default=0)
    pages_total: Mapped[int] = mapped_column(Integer, default=0)
    # 0 no findings, 1 findings, 2 could not scan: as the command's exit status.
    exit_code: Mapped[int | None] = mapped_column(Integer)
    findings: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    report_json: Mapped[str | None] = mapped_column(Text)
    # The printable report in Swedish and in English (the same scan, the same screenshots).
    report_html: Mapped[str | None] = mapped_column(Text)
    report_html_en: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime_utc]
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
