"""Sites: the sites one deployment serves, their published policies, the request's site."""

from __future__ import annotations

from flask import Flask, Response, request


def init_app(app: Flask) -> None:
    """Load the sites, publish a newer policy file at upgrade, resolve each request's site
    first, answer an unknown site with 404, and add `sites`."""
    from consent_service.schema import register_upgrade_hook
    from consent_service.sites.cli import sites_group
    from consent_service.sites.services import UnknownSite, init_registry, site_args
    from consent_service.sites.store import publish_policy_file
    from consent_service.web.errors import error_page, json_error

    init_registry(app)
    # `url_for(..., **site_args())`: links and forms of a citizen's page keep its site.
    app.jinja_env.globals["site_args"] = site_args
    app.cli.add_command(sites_group)
    # Before the consent domain's hook that archives the published texts.
    register_upgrade_hook(app, "policy file", publish_policy_file)

    @app.errorhandler(UnknownSite)
    def _unknown_site(exc: UnknownSite) -> Response | tuple[str, int]:
        message = f"This service does not serve the site {exc.domain!r}."
        if request.path.startswith("/api/"):
            return json_error(404, "unknown_site", message)
        if request.path.startswith("/embed/"):
            return Response(f"/* {message} */\n", 404, mimetype="text/javascript")
        return error_page(404, message), 404
