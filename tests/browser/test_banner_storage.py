"""Refusal and withdrawal clear what a declaration names: cookies (by name or `*` prefix) on
the host and every parent domain, and localStorage/sessionStorage keys (by key or prefix)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Service, Visit
from tests.browser.test_banner_choices import wait_for_choice
from tests.browser.test_banner_embeds import service_embeds  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

# The film service's declaration (see test_banner_embeds): cookies `vid_*`, storage
# `vid_state` and `vidcache*`, functional. `keep` and `vid_stateX` are not declared.
DECLARED = {"local": ["vid_state", "vidcache.1"], "session": ["vidcache.2"]}
UNDECLARED = {"local": ["keep", "vid_stateX"], "session": ["keep"]}


def fill(visit: Visit) -> None:
    """As the film player would: its cookie on the host and on the whole site, its keys."""
    visit.page.evaluate(
        """([declared, undeclared]) => {
          document.cookie = 'vid_a=1;path=/';
          document.cookie = 'vid_a=2;path=/;domain=.uppsala.test';
          document.cookie = 'vid_b=3;path=/;domain=.uppsala.test';
          for (const keys of [declared, undeclared]) {
            keys.local.forEach(k => localStorage.setItem(k, '1'));
            keys.session.forEach(k => sessionStorage.setItem(k, '1'));
          }
        }""",
        [DECLARED, UNDECLARED],
    )


def left(visit: Visit) -> dict[str, Any]:
    return {
        "cookies": sorted(
            (c["name"], c["domain"]) for c in visit.context.cookies() if c["name"].startswith("vid")
        ),
        **visit.page.evaluate(
            "({local: Object.keys(localStorage).sort(), session: Object.keys(sessionStorage)})"
        ),
    }


def test_refusal_clears_declared_cookies_and_storage_keys(
    visit: Visit,
    service_embeds: Service,  # noqa: F811
) -> None:
    page = visit.goto(service="embeds")
    fill(visit)
    assert len(left(visit)["cookies"]) == 3
    page.get_by_role("button", name="Endast nödvändiga").click()
    wait_for_choice(visit)
    assert left(visit) == {"cookies": [], **UNDECLARED}


def test_withdrawal_clears_them_on_the_host_and_the_site(
    visit: Visit,
    service_embeds: Service,  # noqa: F811
) -> None:
    page = visit.goto(service="embeds")
    page.get_by_role("button", name="Acceptera alla").click()
    wait_for_choice(visit)
    fill(visit)
    assert left(visit)["cookies"] == [
        ("vid_a", ".uppsala.test"),
        ("vid_a", "www.uppsala.test"),
        ("vid_b", ".uppsala.test"),
    ]
    page.get_by_role("button", name="Återkalla samtycke till kakor").click()
    page.wait_for_function("!document.cookie.includes('consent=')")
    assert left(visit) == {"cookies": [], **UNDECLARED}
    assert service_embeds.log()[-1]["action"] == "withdraw"
