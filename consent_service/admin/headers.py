"""Every staff response is kept out of caches and search engines.

Staff pages show consent IDs, ideas with contact details and the access log: no browser
cache, shared computer's back button or proxy may keep a copy (`no-store`), and a link that
leaks to a search engine must not make them findable (`X-Robots-Tag`; `admin/base.html` adds
the `<meta>` for the pages themselves). A staff response is one of the admin blueprint (sign-in
and sign-out included) or of a view that declares its roles with `role_required`, whichever
domain it belongs to, so a new staff page is covered without being listed here.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

NOINDEX = "noindex, nofollow"


def is_staff_response() -> bool:
    if request.blueprint == "admin":
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "allowed_roles", None) is not None


def _staff_headers(response: Response) -> Response:
    if is_staff_response():
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Robots-Tag"] = NOINDEX
    return response


def register_staff_headers(app: Flask) -> None:
    app.after_request(_staff_headers)
