"""WCAG 2.1 AA and equal treatment of the choices: axe-core, keyboard, reflow, colours."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.conftest import Visit

pytestmark = pytest.mark.browser

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
FIRST_LAYER = {
    "sv": ("Acceptera alla", "Endast nödvändiga", "Inställningar"),
    "en": ("Accept all", "Only necessary", "Settings"),
}
STYLE_PROPERTIES = [
    "width", "height", "color", "backgroundColor", "fontFamily", "fontSize", "fontWeight",
    "lineHeight", "borderTopWidth", "borderTopStyle", "borderTopColor", "borderBottomWidth",
    "borderRadius", "paddingTop", "paddingRight", "paddingBottom", "paddingLeft", "textDecoration",
    "textTransform", "letterSpacing", "boxShadow", "outlineStyle", "opacity", "cursor",
]  # fmt: skip

_axe = Axe()


def axe_report(violations: list[dict[str, Any]]) -> str:
    """Like AxeResults.generate_report, which fails on shadow DOM targets (nested lists)."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"]:
            lines.append(f"  {node['target']}: {node['html'][:200]}")
            lines.extend(f"    - {c['message']}" for k in ("any", "all", "none") for c in node[k])
    return "\n".join(lines)


def assert_no_axe_violations(visit: Visit, where: str) -> None:
    visit.settle()
    results = _axe.run(visit.page, options=WCAG_AA)
    violations = results.response["violations"]
    assert results.violations_count == 0, f"{where}:\n{axe_report(violations)}"


def computed(locator: Any) -> dict[str, str]:
    return locator.evaluate(  # type: ignore[no-any-return]
        "(e, props) => { const s = getComputedStyle(e); "
        "return Object.fromEntries(props.map(p => [p, s[p]]).concat([['tag', e.tagName]])) }",
        STYLE_PROPERTIES,
    )


def shadow_focus(visit: Visit) -> str | None:
    """Text of the element focused inside the banner, None when focus is elsewhere."""
    return visit.page.evaluate(  # type: ignore[no-any-return]
        "document.querySelector('consent-banner')?.shadowRoot.activeElement?.textContent ?? null"
    )


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_axe_first_and_settings_layer(visit: Visit, lang: str) -> None:
    page = visit.goto(lang=lang)
    accept, _, settings = FIRST_LAYER[lang]
    page.get_by_role("button", name=accept).wait_for()
    assert_no_axe_violations(visit, f"first layer ({lang})")
    visit.screenshot(f"first-layer-{lang}-desktop")

    page.get_by_role("button", name=settings).click()
    visit.screenshot(f"settings-layer-{lang}-desktop")
    for summary in page.locator("consent-banner summary").all():
        summary.click()  # the cookie declarations are checked too
    assert_no_axe_violations(visit, f"settings layer ({lang})")


def test_axe_settings_layer_with_a_choice(visit: Visit) -> None:
    page = visit.goto()
    page.get_by_role("button", name="Acceptera alla").click()
    visit.wait("window.Consent.get()?.consent_id")
    expect(page.get_by_role("status")).to_have_text("Ditt val är sparat.")
    assert_no_axe_violations(visit, "page with the saved notice")
    visit.screenshot("saved-notice")
    page.get_by_role("link", name="Kakinställningar").click()
    page.get_by_role("button", name="Återkalla samtycke", exact=True).wait_for()
    assert_no_axe_violations(visit, "settings layer with a choice")
    visit.screenshot("settings-layer-with-choice")


@pytest.mark.parametrize("width", [1280, 800, 320])
def test_first_layer_buttons_are_identical(visit_factory: Any, width: int) -> None:
    visit: Visit = visit_factory(viewport={"width": width, "height": 720})
    page = visit.goto()
    visit.settle()
    styles = [computed(page.get_by_role("button", name=n)) for n in FIRST_LAYER["sv"]]
    assert styles[0]["tag"] == "BUTTON"
    assert styles[0] == styles[1] == styles[2]
    boxes = [page.get_by_role("button", name=n).bounding_box() for n in FIRST_LAYER["sv"]]
    if width >= 800:  # in one row
        assert len({b["y"] for b in boxes}) == 1  # type: ignore[index]
    else:  # stacked, full width
        assert len({b["x"] for b in boxes}) == 1  # type: ignore[index]


def test_settings_layer_buttons_are_identical(visit: Visit) -> None:
    page = visit.goto()
    page.get_by_role("button", name="Inställningar").click()
    names = ("Spara val", "Acceptera alla", "Endast nödvändiga")
    styles = [computed(page.get_by_role("button", name=n, exact=True)) for n in names]
    assert styles[0] == styles[1] == styles[2]


@pytest.mark.parametrize("width", [320, 375])
def test_reflow_at_narrow_widths(visit_factory: Any, width: int) -> None:
    visit: Visit = visit_factory(viewport={"width": width, "height": 640})
    page = visit.goto()
    visit.dialog().wait_for()
    no_horizontal_scroll = (
        "document.documentElement.scrollWidth <= innerWidth && "
        "(() => { const d = document.querySelector('consent-banner').shadowRoot"
        ".querySelector('dialog'); return d.scrollWidth <= d.clientWidth && "
        "d.getBoundingClientRect().right <= innerWidth })()"
    )
    assert page.evaluate(no_horizontal_scroll)
    box = visit.dialog().bounding_box()
    assert box is not None and box["x"] >= 0 and box["width"] <= width
    if width == 320:
        visit.screenshot("first-layer-sv-320")
    page.get_by_role("button", name="Inställningar").click()
    for summary in page.locator("consent-banner summary").all():
        summary.click()
    assert page.evaluate(no_horizontal_scroll)
    # The layer scrolls inside the dialog; the buttons are reachable.
    page.get_by_role("button", name="Spara val").scroll_into_view_if_needed()
    assert page.get_by_role("button", name="Spara val").is_visible()
    if width == 320:
        visit.screenshot("settings-layer-sv-320")


def test_keyboard_only(visit: Visit) -> None:
    page = visit.goto()
    visit.dialog().wait_for()
    # The dialog opens with its heading focused; nothing is preselected.
    assert shadow_focus(visit) == "Kakor på uppsala.se"
    for _ in range(3):
        page.keyboard.press("Escape")  # not a choice: the first layer stays
    assert visit.dialog().evaluate("d => d.open")

    page.keyboard.press("Tab")
    assert shadow_focus(visit) == "Acceptera alla"
    focused = page.get_by_role("button", name="Acceptera alla")
    outline = focused.evaluate(
        "e => [getComputedStyle(e).outlineStyle, getComputedStyle(e).outlineWidth]"
    )
    assert outline == ["solid", "3px"]
    page.keyboard.press("Tab")
    assert shadow_focus(visit) == "Endast nödvändiga"
    page.keyboard.press("Tab")
    assert shadow_focus(visit) == "Inställningar"
    page.keyboard.press("Enter")
    assert shadow_focus(visit) == "Inställningar för kakor"

    # Escape in the settings layer of a first visit: back to the first layer.
    page.keyboard.press("Escape")
    assert shadow_focus(visit) == "Inställningar"
    page.keyboard.press("Space")
    assert shadow_focus(visit) == "Inställningar för kakor"

    # Tab to the functional switch (necessary is disabled and skipped), Space turns it on.
    functional = page.get_by_role("switch", name="Funktionella")
    for _ in range(5):
        page.keyboard.press("Tab")
        if functional.evaluate("e => e.getRootNode().activeElement === e"):
            break
    assert functional.evaluate("e => e.getRootNode().activeElement === e")
    page.keyboard.press("Space")
    assert functional.is_checked()
    while shadow_focus(visit) != "Spara val":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    visit.wait("window.Consent.get()?.consent_id")
    assert visit.payload()["c"] == {"functional": True, "statistics": False}  # type: ignore[index]
    assert not visit.dialog().evaluate("d => d.open")

    # Reopen from the page's own link, then Escape: closed, focus back on the link.
    link = page.get_by_role("link", name="Kakinställningar")
    link.focus()
    page.keyboard.press("Enter")
    assert shadow_focus(visit) == "Inställningar för kakor"
    page.keyboard.press("Escape")
    assert not visit.dialog().evaluate("d => d.open")
    assert link.evaluate("e => document.activeElement === e")

    # The close button does the same.
    page.keyboard.press("Enter")
    while shadow_focus(visit) != "Stäng":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert not visit.dialog().evaluate("d => d.open")
    assert link.evaluate("e => document.activeElement === e")


def test_focused_heading_has_a_ring_not_a_box(visit: Visit) -> None:
    """The dialog opens with its heading focused: the ring hugs the text with some room, so
    it reads as focus on a heading, not as a full-width box like a text field."""
    page = visit.goto()
    visit.dialog().wait_for()
    visit.settle()
    assert shadow_focus(visit) == "Kakor på uppsala.se"
    heading = page.get_by_role("heading", name="Kakor på uppsala.se")
    ring = heading.evaluate(
        """h => { const s = getComputedStyle(h), r = document.createRange();
          r.selectNodeContents(h);
          return {style: s.outlineStyle, width: parseFloat(s.outlineWidth),
                  offset: parseFloat(s.outlineOffset), background: s.backgroundColor,
                  box: h.getBoundingClientRect().width, text: r.getBoundingClientRect().width,
                  content: h.parentElement.clientWidth} }"""
    )
    assert ring["style"] == "solid" and ring["width"] >= 2  # visible
    assert ring["offset"] >= 4  # clear of the letters
    assert ring["background"] == "rgba(0, 0, 0, 0)"  # no field-like fill
    assert ring["box"] <= ring["text"] + 2 < ring["content"]  # as wide as the words only
    visit.screenshot("first-layer-heading-focus")


def test_focus_stays_in_the_dialog(visit: Visit) -> None:
    page = visit.goto()
    visit.dialog().wait_for()
    seen = set()
    for _ in range(8):
        page.keyboard.press("Tab")
        seen.add(page.evaluate("document.activeElement.tagName"))
    assert seen <= {"CONSENT-BANNER", "BODY"}  # the page behind is inert


def test_forced_colors_keeps_buttons_visible(visit_factory: Any) -> None:
    visit: Visit = visit_factory(forced_colors="active")
    page = visit.goto()
    button = page.get_by_role("button", name="Acceptera alla")
    border = button.evaluate(
        "e => [getComputedStyle(e).borderTopStyle, getComputedStyle(e).borderTopWidth,"
        " getComputedStyle(e).borderTopColor, getComputedStyle(e).backgroundColor]"
    )
    assert border[0] == "solid" and border[1] == "2px"
    assert border[2] != border[3]  # the border shows against the button face
    visit.screenshot("first-layer-forced-colors")


def test_reduced_motion(visit_factory: Any) -> None:
    visit: Visit = visit_factory(reduced_motion="reduce")
    page = visit.goto()
    visit.dialog().wait_for()
    assert visit.dialog().evaluate("d => getComputedStyle(d).animationName") == "none"
    visit2: Visit = visit_factory()
    visit2.goto()
    assert visit2.dialog().evaluate("d => getComputedStyle(d).animationName") != "none"
    assert page is not None


def test_text_contrast_of_the_defaults(visit: Visit) -> None:
    """axe checks contrast too; this pins the default palette above AA with some margin."""
    page = visit.goto()
    visit.settle()
    page.keyboard.press("Tab")  # focus "Acceptera alla", for its outline colour
    ratios = page.get_by_role("button", name="Acceptera alla").evaluate(
        """e => {
          const lum = c => { const [r, g, b] = c.match(/\\d+/g).slice(0, 3).map(v => {
            v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4 });
            return 0.2126 * r + 0.7152 * g + 0.0722 * b };
          const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
            return (x + 0.05) / (y + 0.05) };
          const s = getComputedStyle(e), d = getComputedStyle(e.closest('dialog'));
          return [ratio(s.color, s.backgroundColor), ratio(d.color, d.backgroundColor),
                  ratio(s.outlineColor, d.backgroundColor)];
        }"""
    )
    assert ratios[0] >= 4.5 and ratios[1] >= 4.5
    assert ratios[2] >= 3  # focus outline against the dialog
