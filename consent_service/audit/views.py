"""The privacy officer's pages at /admin/audit: search, entries, charts, verify, export, logs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    render_template,
    request,
    stream_with_context,
)

from consent_service.admin.access import ACTION_LABELS, access_log_page, record_access
from consent_service.admin.auth import current_user, role_required
from consent_service.admin.models import Role
from consent_service.admin.nav import add_nav_item
from consent_service.audit import services, stats
from consent_service.audit.checkpoints import latest_checkpoint
from consent_service.audit.export import (
    FORMATS,
    export_size,
    export_text,
    people_lines,
)
from consent_service.audit.filters import (
    ACTIONS,
    CATEGORIES,
    FILTER_FIELDS,
    SOURCES,
    AuditFilter,
    FilterError,
    parse_filter,
)
from consent_service.audit.forms import VerifyForm
from consent_service.audit.models import Action, Source
from consent_service.db import db, utcnow
from consent_service.web.charts import (
    LineChart,
    Series,
    format_percent,
    line_chart,
    stacked_bar,
)

bp = Blueprint("audit_admin", __name__, url_prefix="/admin/audit")
officer_only = role_required(Role.PRIVACY_OFFICER)
# Larger than any sequence number we will reach, smaller than SQLite's INTEGER limit.
MAX_SEQ = 2**53
# The UI's third export: a Swedish table for a spreadsheet (`people_lines`), beside the
# verifiable CSV and NDJSON that `audit export` also writes.
TABLE_FORMAT = "table"


@bp.after_request
def _never_cache(response: Response) -> Response:
    """Consent IDs and the access log are personal data: no browser or proxy keeps a copy."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _actor() -> str:
    user = current_user()
    assert user is not None  # role_required let the request through
    return user.name


def _cursor(name: str) -> int | None:
    """A keyset cursor from the query string; malformed or huge values are a 400."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not re.fullmatch(r"\d{1,16}", raw) or int(raw) > MAX_SEQ:
        abort(400, f"{name} måste vara ett positivt heltal")
    return int(raw)


def _filter_args() -> dict[str, str]:
    return {k: v for k in FILTER_FIELDS if (v := request.args.get(k)) is not None}


def _choices() -> dict[str, Any]:
    return {"actions": ACTIONS, "categories": CATEGORIES, "sources": SOURCES}


@bp.get("/")
@officer_only
def search_page() -> tuple[str, int]:
    raw = _filter_args()
    try:
        audit_filter = parse_filter(raw)
    except FilterError as exc:
        record_access(_actor(), "search", {"rejected": exc.field}, outcome="rejected")
        html = render_template(
            "admin/audit/search.html", raw=raw, error=exc, page=None, params={}, **_choices()
        )
        return html, 400
    before, after = _cursor("before"), _cursor("after")
    page = services.search_entries(db.session, audit_filter, before=before, after=after)
    details: dict[str, Any] = audit_filter.as_params()
    if before or after:
        details["cursor"] = {"before": before, "after": after}
    record_access(_actor(), "search", details, summary=f"{len(page.entries)} träffar")
    html = render_template(
        "admin/audit/search.html",
        raw=raw,
        error=None,
        page=page,
        params=audit_filter.as_params(),
        **_choices(),
    )
    return html, 200


@bp.get("/entries/<int:seq>")
@officer_only
def entry_page(seq: int) -> str | tuple[str, int]:
    if seq > MAX_SEQ:
        abort(404)
    detail = services.entry_detail(db.session, seq)
    record_access(_actor(), "view_entry", {"seq": seq}, outcome="ok" if detail else "not_found")
    if detail is None:
        purged = services.purged_link(db.session, seq)
        if purged is None:
            abort(404, "Det finns ingen post med det numret.")
        html = render_template("admin/audit/purged.html", link=purged)
        return html, 410
    return render_template("admin/audit/entry.html", detail=detail)


def rates_chart(buckets: list[stats.Bucket]) -> LineChart:
    """The share of decisions that allowed each category, per bucket (gaps where none)."""
    series = [
        Series(label, css_class, [b.share(getattr(b, attr)) for b in buckets])
        for label, css_class, attr in (
            ("Funktionella kakor", "series-functional", "functional"),
            ("Statistikkakor", "series-statistics", "statistics"),
        )
    ]
    # Taller than the default: the legend is drawn inside the SVG, under the x labels.
    return line_chart([b.label for b in buckets], series, y_top=100, y_format=format_percent,
                      markers=True, height=320, bottom=56)  # fmt: skip


@bp.get("/charts")
@officer_only
def charts_page() -> tuple[str, int]:
    granularity = request.args.get("granularity", "day")
    error = None
    if granularity not in stats.GRANULARITIES:
        granularity, error = "day", FilterError("granularity", "välj dag, vecka eller månad")
    sites = stats.logged_sites(db.session)
    # Every site of a deployment counts days in the same time zone today (stats.site_zone).
    zone = stats.site_zone(sites[0] if sites else "")
    today = utcnow().astimezone(zone).date()
    start, end = stats.default_range(granularity, today)
    site: str | None = None
    raw = {k: request.args[k] for k in ("date_from", "date_to", "site") if k in request.args}
    if error is None:
        try:
            chosen = parse_filter(raw)
        except FilterError as exc:
            error = exc
        else:
            start, end, site = chosen.date_from or start, chosen.date_to or end, chosen.site
            if start > end:
                error = FilterError("date_to", "slutdatumet ligger före startdatumet")
            elif stats.bucket_count(start, end, granularity) > stats.MAX_BUCKETS[granularity]:
                error = FilterError(
                    "date_from",
                    f"välj högst {stats.MAX_BUCKETS[granularity]} staplar; "
                    "en längre period visas per vecka eller månad",
                )
    if error is not None:
        start, end = stats.default_range(granularity, today)
    if site is None:
        # Until one is chosen: the busiest site of the period (the only one on most deployments).
        busiest = stats.busiest_site(db.session, start, end, zone) if len(sites) > 1 else None
        site = busiest or (sites[0] if sites else "")
    zone = stats.site_zone(site)
    buckets = stats.consent_rates(db.session, start, end, granularity, site=site, zone=zone)
    total = stats.totals(buckets)
    share_bar = stacked_bar(
        [("Godkänn alla", "share-all", total.accept_all),
         ("Endast nödvändiga", "share-necessary", total.necessary_only),
         ("Anpassat val", "share-custom", total.custom)]
    )  # fmt: skip
    record_access(
        _actor(),
        "view_charts",
        {"granularity": granularity, "date_from": start.isoformat(), "date_to": end.isoformat(),
         "site": site},
    )  # fmt: skip
    html = render_template(
        "admin/audit/charts.html",
        buckets=buckets,
        total=total,
        chart=rates_chart(buckets),
        share_bar=share_bar,
        granularity=granularity,
        date_from=start,
        date_to=end,
        site=site,
        sites=sites,
        zone=zone.key,
        raw=raw,
        error=error,
    )
    return html, 400 if error else 200


@bp.get("/verify")
@officer_only
def verify_page() -> str:
    return render_template(
        "admin/audit/verify.html",
        form=VerifyForm(),
        report=None,
        checkpoint=latest_checkpoint(db.session),
    )


@bp.post("/verify")
@officer_only
def verify_submit() -> str | tuple[str, int]:
    form = VerifyForm()
    if not form.validate():
        abort(400, "Formuläret har gått ut. Ladda om sidan och försök igen.")
    started = utcnow()
    report = services.verify_log(db.session)
    seconds = (utcnow() - started).total_seconds()
    record_access(
        _actor(),
        "verify",
        {},
        outcome="ok" if report.ok else "broken",
        summary=report.lines()[0],
    )
    return render_template(
        "admin/audit/verify.html",
        form=VerifyForm(formdata=None),
        report=report,
        seconds=seconds,
        checkpoint=latest_checkpoint(db.session),
    )


@bp.get("/export")
@officer_only
def export_download() -> Response:
    fmt = request.args.get("format", "")
    if fmt not in (*FORMATS, TABLE_FORMAT):
        abort(400, "Välj formatet csv, ndjson eller table.")
    try:
        audit_filter = parse_filter(_filter_args())
    except FilterError as exc:
        abort(400, f"Filtret {exc.field}: {exc.message}")
    rows = export_size(db.session, audit_filter)
    record_access(
        _actor(),
        "export",
        {"format": fmt, **audit_filter.as_params()},
        summary=f"{fmt}, {rows} rader",
    )
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    body = _export_stream(audit_filter, fmt)
    mimetype = "application/x-ndjson" if fmt == "ndjson" else "text/csv"
    kind, extension = ("tabell-", "csv") if fmt == TABLE_FORMAT else ("", fmt)
    name = f"samtyckeslogg-{kind}{stamp}.{extension}"
    response = Response(stream_with_context(body), mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _export_stream(audit_filter: AuditFilter, fmt: str) -> Iterator[bytes]:
    pending: list[str] = []
    size = 0
    if fmt == TABLE_FORMAT:
        chunks = people_lines(db.session, audit_filter, AUDIT_LABELS)
    else:
        chunks = export_text(db.session, audit_filter, fmt)
    for chunk in chunks:
        pending.append(chunk)
        size += len(chunk)
        if size >= 64 * 1024:
            yield "".join(pending).encode()
            pending, size = [], 0
    yield "".join(pending).encode()


@bp.get("/access-log")
@officer_only
def access_log() -> str:
    before = _cursor("before")
    page = access_log_page(db.session, before)
    record_access(_actor(), "view_access_log", {"before": before} if before else {})
    return render_template("admin/audit/access_log.html", page=page, labels=ACTION_LABELS)


@bp.get("/retention")
@officer_only
def retention_page() -> str:
    return render_template(
        "admin/audit/retention.html",
        retention=current_app.config["RETENTION_DAYS"],
        last_purge=services.last_purge(db.session),
        checkpoints=services.recent_checkpoints(db.session),
        key_configured=bool(current_app.config.get("CHECKPOINT_KEY")),
    )


AUDIT_LABELS: dict[str, dict[str, str]] = {
    # Keyed by the log's vocabulary (audit/models.py); a StrEnum key also finds its text.
    "actions": {
        Action.GRANT: "Samtycke givet",
        Action.UPDATE: "Val ändrat",
        Action.WITHDRAW: "Återkallat",
    },
    "categories": {
        "functional": "Funktionella tillåtna",
        "statistics": "Statistik tillåten",
        "none": "Endast nödvändiga",
    },
    "sources": {
        Source.BANNER: "Bannern",
        Source.SETTINGS: "Inställningslagret",
        Source.NOJS: "Sidan utan JavaScript",
        Source.API: "API",
    },
    "fields": {
        "consent_id": "Samtyckes-ID",
        "date_from": "Från och med",
        "date_to": "Till och med",
        "action": "Händelse",
        "category": "Kategori",
        "policy_version": "Policyversion",
        "source": "Källa",
        "site": "Webbplats",
        "granularity": "Indelning",
    },
    "granularities": {"day": "dag", "week": "vecka", "month": "månad"},
    "outcomes": {
        "ok": "Lyckades",
        "failed": "Misslyckades",
        "limited": "Spärrad",
        "rejected": "Avvisad",
        "broken": "Fel hittat",
        "not_found": "Fanns inte",
    },
}


def register_audit_pages(app: Flask) -> None:
    """The blueprint and its menu entries (privacy officers only)."""
    app.register_blueprint(bp)

    @app.context_processor
    def _audit_labels() -> dict[str, Any]:
        return {"audit_labels": AUDIT_LABELS} if request.path.startswith("/admin") else {}

    for label, endpoint in (
        ("Samtyckesloggen", "audit_admin.search_page"),
        ("Samtyckesstatistik", "audit_admin.charts_page"),
        ("Verifiering", "audit_admin.verify_page"),
        ("Gallring och kontrollpunkter", "audit_admin.retention_page"),
        ("Åtkomstlogg", "audit_admin.access_log"),
    ):
        add_nav_item(app, label, endpoint, Role.PRIVACY_OFFICER)
