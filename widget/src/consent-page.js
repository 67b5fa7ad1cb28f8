// consent-page.js: the banner's parts that live in the page's content, loaded by consent.js
// only when a page has them: placeholders for gated embeds (<iframe|img data-consent=...
// data-src=...>) while their category is off, and the declaration table
// (<div data-consent-declaration>). Texts come from GET {api}/policy.

import css from "./consent-page.css";
import { adopt, d, h, pageLang } from "./dom.js";

// consent.js passes what it shares on the <script> element that loads this file.
const { x: X, r } = d.currentScript;

/** A declaration's cookie name and the storage keys it names. */
const names = (c) => [c.name, ...(c.storage || [])].join(", ");

/** Who serves an embed: data-provider, else the declaration naming its host, else the host. */
function provider(e, cookies) {
  const host = new URL(e.dataset.src, location.href).hostname;
  return (
    e.dataset.provider ||
    cookies.find((c) => c.hosts?.some((k) => host == k || host.endsWith("." + k)))?.provider ||
    host
  );
}

/** Put a placeholder, as large as the embed, in the place of each embed. */
async function gate(embeds) {
  const lang = X.lang();
  const T = (await X.policy()).texts[lang];
  for (const e of embeds) {
    if (X.held.has(e) || !e.isConnected) continue;
    // An iframe has its box already; an image without a source only its alt text, so its
    // width and height attributes count (the page's max-width still applies, see the CSS).
    // One that is hidden (a closed tab) has no box: its attributes, else the placeholder's
    // own size. Nothing moves on loading unless the embed is smaller than its notice.
    const box = e.getBoundingClientRect();
    const img = e.tagName == "IMG";
    const size = ["width", "height"]
      .map((k) => {
        const v = (img && e.getAttribute(k)) || box[k] || e.getAttribute(k);
        // At least the embed's height: text never scrolls out of a small box.
        return v ? `${k[0] == "h" ? "min-height" : k}:${isNaN(v) ? v : v + "px"};` : "";
      })
      .join("");
    const name = provider(e, T.cookies);
    const k = e.dataset.consent;
    const holder = h("consent-embed", { className: e.className });
    const root = holder.attachShadow({ mode: "open" });
    // Its own size in its own stylesheet: no style attribute, so a strict CSP allows it.
    adopt(root, css + `:host{${size}}`);
    root.append(
      h(
        "div",
        { role: "group", "aria-labelledby": "t", lang, dir: T.dir },
        h("p", { id: "t", className: "t", textContent: e.title || e.alt || name }),
        h("p", { textContent: T.embed_notice.replace(/\{provider\}/g, name) }),
        h(
          "div",
          { className: "row" },
          h("button", {
            type: "button",
            textContent: T.embed_once,
            onclick() {
              e.o = 1; // this time only: nothing is recorded
              X.load(e);
            },
          }),
          h("button", {
            type: "button",
            textContent: T.categories[k]?.allow || T.categories[k]?.label || k,
            onclick: () => X.allow(k),
          }),
        ),
      ),
    );
    e.replaceWith(holder);
    e.removeAttribute("src"); // loads nothing, also when it is put back
    X.held.set(e, holder);
  }
}

/** Render the published declarations as a table, in the page's language. */
async function table(elements) {
  const P = await X.policy();
  const lang = pageLang(P.languages, P.default_language);
  const T = P.texts[lang];
  const fields = ["provider", "purpose", "lifetime"];
  for (const el of elements) {
    el.replaceChildren(
      h(
        "table",
        { lang, dir: T.dir },
        h("caption", { textContent: T.title }),
        h(
          "thead",
          {},
          h("tr", {}, ...["name", ...fields].map((f) => h("th", { scope: "col", textContent: T["cookie_" + f] }))),
        ),
        ...["necessary", "functional", "statistics"].map((k) =>
          h(
            "tbody",
            {},
            h("tr", {}, h("th", { scope: "rowgroup", colSpan: 4, textContent: T.categories[k].label })),
            ...T.cookies
              .filter((c) => c.category == k)
              .map((c) =>
                h(
                  "tr",
                  {},
                  h("th", { scope: "row", textContent: names(c) }),
                  ...fields.map((f) => h("td", { textContent: c[f] })),
                ),
              ),
          ),
        ),
      ),
    );
  }
}

/** The settings layer's list of a category's declarations, in a <details>. */
function details(T, k) {
  const cookies = T.cookies.filter((c) => c.category == k);
  return h(
    "details",
    {},
    h("summary", { textContent: T.cookies_heading }),
    cookies.length
      ? h(
          "ul",
          {},
          ...cookies.map((c) =>
            h(
              "li",
              {},
              h(
                "dl",
                {},
                ...["name", "provider", "purpose", "lifetime"].flatMap((f) => [
                  h("dt", { textContent: T["cookie_" + f] }),
                  h("dd", { textContent: f == "name" ? names(c) : c[f] }),
                ]),
              ),
            ),
          ),
        )
      : h("p", { textContent: T.no_cookies }),
  );
}

r({ gate, table, details });
