"""Staff pages for the sites and their embeds.

`/admin/sites` (administrators): every site this deployment serves; add one, change a
non-default site's origins, cookie domain and time zone. `/admin/site` (all staff): choose
the site to work on. `/admin/snippet` (editors, administrators): the HTML to paste into the
chosen site's pages, and `/admin/snippet/test`, a page that runs exactly that HTML.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from consent_service.admin.access import record_access
from consent_service.admin.auth import current_user, role_required
from consent_service.admin.models import Role, User
from consent_service.embed.snippet import host_csp, snippet_blocks
from consent_service.sites.services import (
    STAFF_SITE_KEY,
    SiteConfig,
    all_sites,
    current_site,
    site_config,
)
from consent_service.sites.store import SiteError, add_site, update_site
from consent_service.web.headers import csp_nonce
from consent_service.web.origins import own_origin, safe_next

bp = Blueprint("embed_admin", __name__, url_prefix="/admin")
EDITORS = (Role.EDITOR, Role.ADMIN)
EVERY_ROLE = tuple(Role)
FIELDS = ("domain", "origins", "cookie_domain", "time_zone")
# Longest input read from a form field; longer is cut (and then refused by the checks).
MAX_FIELD = 4000
FIELD_LABELS = {
    "domain": ("Domännamn", "domain name"),
    "origins": ("Ursprung", "origins"),
    "cookie_domain": ("Kakans domän", "cookie domain"),
    "time_zone": ("Tidszon", "time zone"),
}
# What to do about a refused field, in Swedish; the service's own reason follows in English.
FIELD_HINTS_SV = {
    "domain": "Ange ett domännamn som inte redan finns, till exempel knivsta.se.",
    "origins": "Ange minst ett ursprung per rad, till exempel https://www.knivsta.se, utan "
    "sökväg. Ett ursprung kan bara höra till en webbplats.",
    "cookie_domain": "Ange en domän som .knivsta.se, eller lämna tomt. Två webbplatser kan "
    "inte dela kakdomän.",
    "time_zone": "Ange en tidszon som Europe/Stockholm.",
}


def sites_for(user: User) -> list[SiteConfig]:
    """The sites `user` may work on (an empty site list: every site)."""
    own = user.site_list
    return [site for site in all_sites() if not own or site.domain in own]


def switcher_context() -> dict[str, Any]:
    """For the admin shell: the sites to switch between, when there is a choice."""
    if not request.path.startswith("/admin"):
        return {}
    user = current_user()
    if user is None:
        return {}
    sites = sites_for(user)
    if len(sites) < 2:
        return {}
    return {"site_switcher": {"sites": sites, "current": current_site().domain}}


@bp.post("/site")
@role_required(*EVERY_ROLE)
def switch_site() -> BaseResponse:
    user = current_user()
    assert user is not None  # role_required let only signed-in staff through
    domain = request.form.get("site", "")[:80].strip().lower()
    if domain not in {site.domain for site in sites_for(user)}:
        abort(400, f"Du kan inte välja webbplatsen {domain!r}. (You cannot choose that site.)")
    session[STAFF_SITE_KEY] = domain
    back = safe_next(request.form.get("next")) or url_for("admin.home")
    return redirect(back, code=303)


def _form_values() -> dict[str, str]:
    return {name: request.form.get(name, "")[:MAX_FIELD] for name in FIELDS}


def _origins(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


def _sites_page(values: dict[str, str], error: SiteError | None, status: int = 200) -> Any:
    page = render_template(
        "admin/sites/sites.html",
        sites=all_sites(),
        values=values,
        error=error,
        labels=FIELD_LABELS,
        hints=FIELD_HINTS_SV,
        added=request.args.get("added"),
    )
    return (page, status) if status != 200 else page


@bp.get("/sites")
@role_required(Role.ADMIN)
def sites_page() -> Any:
    return _sites_page({"time_zone": "Europe/Stockholm"}, None)


@bp.post("/sites")
@role_required(Role.ADMIN)
def site_create() -> Any:
    user = current_user()
    assert user is not None
    values = _form_values()
    try:
        site = add_site(
            values["domain"],
            _origins(values["origins"]),
            cookie_domain=values["cookie_domain"].strip() or None,
            time_zone=values["time_zone"].strip(),
            by=user.name,
        )
    except SiteError as exc:
        record_access(
            user.name, "site_create", {"domain": values["domain"][:80]}, outcome="refused",
            summary=str(exc),
        )  # fmt: skip
        return _sites_page(values, exc, 400)
    record_access(
        user.name, "site_create",
        {"domain": site.domain, "origins": json.loads(site.origins),
         "cookie_domain": site.cookie_domain, "time_zone": site.time_zone},
        summary=f"Lade till webbplatsen {site.domain}",
    )  # fmt: skip
    return redirect(url_for(".sites_page", added=site.domain), code=303)


def _editable(domain: str) -> SiteConfig:
    found = {site.domain: site for site in all_sites()}.get(domain)
    if found is None or found.default:
        abort(404)
    return found


def _site_page(site: SiteConfig, values: dict[str, str], error: SiteError | None) -> str:
    return render_template(
        "admin/sites/site.html",
        site=site,
        values=values,
        error=error,
        labels=FIELD_LABELS,
        hints=FIELD_HINTS_SV,
        saved=request.args.get("saved") == "1",
    )


@bp.get("/sites/<domain>")
@role_required(Role.ADMIN)
def site_page(domain: str) -> str:
    site = _editable(domain)
    values = {
        "origins": "\n".join(site.origins),
        "cookie_domain": site.cookie_domain or "",
        "time_zone": site.time_zone.key,
    }
    return _site_page(site, values, None)


@bp.post("/sites/<domain>")
@role_required(Role.ADMIN)
def site_update(domain: str) -> Any:
    user = current_user()
    assert user is not None
    site = _editable(domain)
    values = _form_values()
    before = {
        "origins": list(site.origins),
        "cookie_domain": site.cookie_domain,
        "time_zone": site.time_zone.key,
    }
    try:
        update_site(
            site.domain,
            _origins(values["origins"]),
            cookie_domain=values["cookie_domain"].strip() or None,
            time_zone=values["time_zone"].strip(),
            by=user.name,
        )
    except SiteError as exc:
        record_access(
            user.name, "site_change", {"domain": site.domain}, outcome="refused",
            summary=str(exc),
        )  # fmt: skip
        return _site_page(site, values, exc), 400
    after = site_config(site.domain)
    record_access(
        user.name, "site_change",
        {"domain": site.domain, "before": before,
         "after": {"origins": list(after.origins), "cookie_domain": after.cookie_domain,
                   "time_zone": after.time_zone.key}},
        summary=f"Ändrade webbplatsen {site.domain}",
    )  # fmt: skip
    return redirect(url_for(".site_page", domain=site.domain, saved=1), code=303)


@bp.get("/snippet")
@role_required(*EDITORS)
def snippet_page() -> str:
    site = current_site()
    return render_template(
        "admin/sites/snippet.html",
        site=site,
        service=own_origin(),
        blocks=snippet_blocks(own_origin(), site),
    )


@bp.get("/snippet/test")
@role_required(*EDITORS)
def snippet_test() -> BaseResponse:
    site = current_site()
    if request.args.get("site") != site.domain:
        # The page's address names its site: the banner's requests from this page (same
        # origin, so no host page's Origin to go by) are resolved by it.
        return redirect(url_for(".snippet_test", site=site.domain), code=303)
    service = own_origin()
    # The example's third-party statistics script is replaced by one of the service's own
    # that shows on the page when it has run.
    stand_in = url_for("static", filename="demo/statistics.js", _external=True)
    nonce = csp_nonce()
    blocks = {b.key: b for b in snippet_blocks(service, site, nonce=nonce, statistics_src=stand_in)}
    response = BaseResponse(
        render_template("admin/sites/snippet_test.html", site=site, blocks=blocks),
        mimetype="text/html",
    )
    # The page sends the policy the snippet page tells hosts to send: what runs here runs
    # under it there.
    response.headers["Content-Security-Policy"] = (
        host_csp(service, nonce, stand_in) + "; frame-ancestors 'none'"
    )
    response.headers["Cache-Control"] = "no-store"
    return response
