"""The HTML a web editor pastes into a site's pages, built for one site of this deployment.

Every block is the exact markup for the site (the service's public address and
`?site=DOMAIN` in every URL). `{NONCE}` stands for the host page's CSP nonce; the live test
page (`/admin/snippet/test`) renders the same blocks with its own nonce and sends the
Content-Security-Policy the CSP block asks for, so what works there works on the site.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from markupsafe import Markup, escape

from consent_service.sites.services import SiteConfig

NONCE_PLACEHOLDER = "{NONCE}"
# The examples' third parties; an editor replaces them with the providers the site uses.
EXAMPLE_STATISTICS_SRC = "https://statistik.example.se/script.js"
EXAMPLE_VIDEO_SRC = "https://www.youtube-nocookie.com/embed/VIDEO-ID"


@dataclass(frozen=True)
class Block:
    key: str
    title_sv: str
    title_en: str
    help_sv: str
    help_en: str
    code: str

    @property
    def html(self) -> Markup:
        """The block as markup, for the test page that renders it."""
        return Markup(self.code)  # noqa: S704 - built from escaped values below


def _origin_of_provider(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def _url(service: str, path: str, **query: str) -> str:
    return f"{service}{path}?{urlencode(query)}"


def snippet_blocks(
    service: str,
    site: SiteConfig,
    *,
    nonce: str = NONCE_PLACEHOLDER,
    statistics_src: str = EXAMPLE_STATISTICS_SRC,
) -> list[Block]:
    """The site's snippet, block by block, in the order they go into a page."""
    e = escape
    domain = site.domain
    consent_js = _url(service, "/embed/consent.js", site=domain)
    ideas_js = _url(service, "/embed/ideas.js", site=domain)
    settings = _url(service, "/consent", site=domain, lang="sv")
    reopen_query = {"site": domain, "lang": "sv"}
    if site.origins:
        reopen_query["next"] = site.origins[0] + "/"
    reopen = _url(service, "/consent", **reopen_query)
    idea_form = _url(service, "/ideas/new", site=domain, lang="sv")
    csp = host_csp(service, nonce, statistics_src)
    return [
        Block(
            "banner",
            "Kakbannern",
            "The cookie banner",
            "I sidans <head>, på varje sida. Byt {NONCE} mot sidans nonce, samma värde som i "
            "sidans Content-Security-Policy (en ny slumpad nonce för varje sidvisning). "
            "Har sidan ingen CSP med nonce, ta bort hela nonce-attributet.",
            "In every page's <head>. Replace {NONCE} with the page's nonce, the value in its "
            "Content-Security-Policy (a new random nonce on every page view). Without a "
            "nonce-based CSP, leave the nonce attribute out.",
            f'<script src="{e(consent_js)}" defer nonce="{e(nonce)}"></script>',
        ),
        Block(
            "script",
            "Skript som kräver samtycke",
            "Scripts that need consent",
            'Skriv type="text/plain" och kategorin i data-consent: skriptet körs först när '
            "besökaren har sagt ja till kategorin. Byt adressen mot er statistiktjänsts.",
            'Write type="text/plain" and the category in data-consent: the script runs only '
            "once the visitor has allowed the category. Use your statistics provider's address.",
            f'<script type="text/plain" data-consent="statistics" src="{e(statistics_src)}">'
            "</script>",
        ),
        Block(
            "iframe",
            "Inbäddad film eller karta",
            "Embedded video or map",
            "data-src i stället för src: ingenting hämtas från leverantören förrän besökaren "
            "tillåter funktionella kakor. Till dess visas en ruta som säger vem som levererar "
            "innehållet, med knappar för att visa det en gång eller tillåta kategorin. Ge "
            "alltid en title.",
            "data-src instead of src: nothing is fetched from the provider until the visitor "
            "allows functional cookies. Until then a box names the provider, with buttons to "
            "show it once or allow the category. Always give a title.",
            f'<iframe data-consent="functional" data-src="{e(EXAMPLE_VIDEO_SRC)}"\n'
            '        title="Film: Så sorterar du ditt avfall" width="560" height="315">'
            "</iframe>",
        ),
        Block(
            "controls",
            "Kakinställningar och återkallande",
            "Cookie settings and withdrawal",
            "Lägg länken i sidfoten på alla sidor: bannern öppnar inställningarna i stället "
            "för att följa länken, och utan JavaScript leder den till samtyckestjänstens "
            "sida. Knappen återkallar samtycket med ett klick; den fungerar bara med "
            "JavaScript, därför finns länken i <noscript>.",
            "Put the link in every page's footer: the banner opens its settings instead of "
            "following it, and without JavaScript it leads to the service's settings page. "
            "The button withdraws consent in one click; it needs JavaScript, hence the link "
            "in <noscript>.",
            f'<a href="{e(reopen)}" lang="sv" data-consent-open>Kakinställningar</a>\n'
            '<button type="button" data-consent-withdraw>Återkalla samtycke</button>\n'
            f'<noscript><a href="{e(settings)}" lang="sv">'
            "Återkalla samtycke på samtyckestjänstens sida</a></noscript>",
        ),
        Block(
            "ideas",
            "Idélådan",
            "The idea widget",
            "Där idéformuläret ska synas. data-topic talar om var idén kom ifrån. Skriptet "
            "kan ligga i <head> som bannern; byt {NONCE} på samma sätt.",
            "Where the idea form should appear. data-topic tells where the idea came from. "
            "The script may go in <head> like the banner's; replace {NONCE} the same way.",
            '<div data-idea-widget data-topic="innovation"></div>\n'
            f'<noscript><p><a href="{e(idea_form)}" lang="sv">Lämna en idé utan JavaScript'
            "</a></p></noscript>\n"
            f'<script src="{e(ideas_js)}" defer nonce="{e(nonce)}"></script>',
        ),
        Block(
            "declaration",
            "Kakförteckning",
            "Cookie declaration",
            "På sidan om kakor: fylls med kakorna i den publicerade kakpolicyn, på sidans "
            "språk, så att sidan aldrig släpar efter. Länken syns för den som saknar "
            "JavaScript.",
            "On the cookie page: filled with the cookies of the published policy, in the "
            "page's language, so the page never falls behind. Visitors without JavaScript "
            "see the link.",
            f'<div data-consent-declaration><a href="{e(settings)}" lang="sv">'
            "Se vilka kakor vi använder</a></div>",
        ),
        Block(
            "csp",
            "Content-Security-Policy för värdsidan",
            "The host page's Content-Security-Policy",
            "Den rubrik sidan behöver (en rad). script-src: tjänsten, nonce och värdarna för "
            "skripten som kräver samtycke. connect-src: tjänsten (val och statistik). "
            "frame-src och img-src: leverantörerna av inbäddat innehåll. form-action: "
            "tjänsten, för inställningssidan utan JavaScript.",
            "The header the page needs (one line). script-src: the service, the nonce and the "
            "hosts of the scripts that need consent. connect-src: the service (choices and "
            "statistics). frame-src and img-src: the providers of embedded content. "
            "form-action: the service, for the settings page without JavaScript.",
            f"Content-Security-Policy: {csp}",
        ),
    ]


def host_csp(service: str, nonce: str, statistics_src: str = EXAMPLE_STATISTICS_SRC) -> str:
    """The Content-Security-Policy a host page needs for the snippet (the test page sends it,
    with `frame-ancestors 'none'` added)."""
    script_hosts = " ".join(dict.fromkeys([service, _origin_of_provider(statistics_src)]))
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}' {script_hosts}",
            f"style-src 'self' 'nonce-{nonce}'",
            f"connect-src 'self' {service}",
            f"frame-src {_origin_of_provider(EXAMPLE_VIDEO_SRC)}",
            "img-src 'self' data:",
            f"form-action 'self' {service}",
            "object-src 'none'",
            "base-uri 'none'",
        ]
    )
