// consent.js: the cookie-consent banner embedded on the municipality's pages.
//
// Size matters more than cleverness here: every visitor downloads this file. See
// ../ARCHITECTURE.md for how the pieces fit together.

import css from "./consent.css";
import { adopt, d, h, NONCE, pageLang, uuid, w } from "./dom.js";
import { startTracker } from "./tracker.js";

// The service replaces this bare identifier with the JSON config when it serves the file.
// eslint-disable-next-line no-undef
const C = __CONSENT_CONFIG__;

const PENDING = "consent_pending";
const OPTIONAL = ["functional", "statistics"];
const GPC = navigator.globalPrivacyControl === true;

// <html lang="sv-SE"> -> "sv"; an unknown language -> the policy's default.
const LANG = pageLang(C.languages, C.default_language);

const none = () => ({ necessary: true, functional: false, statistics: false });
// What stays in force while a changed choice is unconfirmed: only what both allow.
const both = (a, b) => ({
  necessary: true,
  functional: a.functional && b.functional,
  statistics: a.statistics && b.statistics,
});

// ---------------------------------------------------------------------------------------------
// State: `state` is the choice in force on this page (what get() returns), `pend` the choice
// (or withdrawal) that the service has not confirmed yet.

let state = null;
let pend = null;

/** The choice in the `consent` cookie for the current policy version, else null. */
function readCookie() {
  try {
    const value = d.cookie
      .split("; ")
      .find((c) => c.startsWith(C.cookie + "="))
      .slice(C.cookie.length + 1);
    const b64 = value.split(".")[0].replace(/-/g, "+").replace(/_/g, "/");
    const p = JSON.parse(atob(b64 + "===".slice((b64.length + 3) % 4)));
    // A newer version than ours: the service has a new policy and this file is cached.
    if (p.v >= C.version && typeof p.id == "string") {
      return {
        consent_id: p.id,
        choices: { necessary: true, functional: p.c.functional === true, statistics: p.c.statistics === true },
        policy_version: p.v,
      };
    }
  } catch {
    // no cookie or not readable: no choice
  }
  return null;
}

function store(value) {
  try {
    value ? localStorage.setItem(PENDING, JSON.stringify(value)) : localStorage.removeItem(PENDING);
  } catch {
    // storage disabled: the choice still applies on this page
  }
}

/** Whether `name` is one of `declared`; a declaration ending in `*` is a prefix. */
const matches = (declared, name) =>
  declared.some((k) => k == name || (k.endsWith("*") && name.startsWith(k.slice(0, -1))));

/**
 * Expire the page's cookies that a category declares, on this host and every parent domain,
 * and remove the localStorage and sessionStorage keys it declares (`_pk_id.*` is Matomo's
 * `_pk_id.<site>.<hash>`).
 */
function clear(category) {
  for (const c of d.cookie.split("; ")) {
    const name = c.split("=")[0];
    if (matches(C.cookies[category], name)) {
      const labels = location.hostname.split(".");
      d.cookie = name + "=;path=/;max-age=0";
      while (labels.length > 1) {
        d.cookie = name + "=;path=/;max-age=0;domain=" + labels.join(".");
        labels.shift();
      }
    }
  }
  try {
    for (const s of [localStorage, sessionStorage]) {
      for (const k of Object.keys(s)) matches(C.storage[category], k) && s.removeItem(k);
    }
  } catch {
    // storage disabled: nothing stored
  }
}

/**
 * Run each waiting `<script type="text/plain" data-consent="...">` whose category is granted,
 * if the page vouched for it: an inline script must carry the nonce of this banner's own
 * <script> tag (none on a page without nonces); one with a `src` is left to the page's CSP.
 * The banner never lends its nonce, so a gated script injected into the page stays inert.
 */
function runScripts(choices) {
  for (const old of d.querySelectorAll('script[type="text/plain"][data-consent]')) {
    if (!choices[old.dataset.consent] || (!old.src && old.nonce != NONCE)) continue;
    const s = d.createElement("script");
    for (const a of old.attributes) {
      if (a.name != "type" && a.name != "data-consent") s.setAttribute(a.name, a.value);
    }
    if (old.dataset.type) s.type = old.dataset.type;
    s.async = old.async; // keep document order for src scripts, like the parser would
    s.nonce = old.nonce;
    s.text = old.text;
    old.replaceWith(s); // replaced, so it never matches again: runs once per page load
  }
}

// ---------------------------------------------------------------------------------------------
// Gated embeds, <iframe|img data-consent="functional" data-src="URL">: loaded when their
// category is granted. Their placeholders and the declaration table ([data-consent-declaration])
// live in a second file, consent-page.js, loaded only when a page needs one of them.

const held = new Map(); // gated embed -> the placeholder standing in its place
const current = () => state?.choices || none();
let page; // promise of consent-page.js's functions

/** GET {api}/policy once: every language's texts and the declarations' details. */
let policyDoc;
const policy = () =>
  (policyDoc ||= fetch(C.api + "/policy")
    .then((r) => r.json())
    .catch((e) => {
      policyDoc = 0; // try again next time
      throw e;
    }));

const more = () =>
  (page ||= new Promise((r) =>
    d.head.append(
      h("script", {
        src: C.page,
        nonce: NONCE,
        onerror: () => r(), // unreachable: no placeholders, no details
        r, // consent-page.js calls back with its functions and takes what it needs from x
        x: {
          held,
          policy,
          load,
          lang: () => textLang,
          // "Allow <category>": the normal choice path, logged like a switch in the settings.
          allow: (k) => {
            const c = { ...current(), [k]: true };
            choose(c.functional, c.statistics, "settings");
          },
        },
      }),
    ),
  ));

/** Load one gated embed now, in place of its placeholder (focus moves along with it). */
function load(e) {
  const p = held.get(e);
  const focused = p && d.activeElement == p;
  p?.replaceWith(e);
  held.delete(e);
  e.src = e.dataset.src;
  focused && e.focus();
}

/**
 * Load the embeds of granted categories; put a placeholder in place of the others. One loaded
 * "this time" (`e.o`) stays until a withdrawal (`all`).
 */
function embeds(choices, all) {
  const off = [];
  for (const e of new Set([...d.querySelectorAll("[data-consent][data-src]"), ...held.keys()])) {
    if (choices[e.dataset.consent]) (held.has(e) || !e.getAttribute("src")) && load(e);
    else if (!held.has(e) && (all || !e.o)) off.push(e);
  }
  off.length && more().then((m) => m?.gate(off.filter((e) => !current()[e.dataset.consent])));
}

/** Put a choice (or null: no choice) in force on the page and tell the page's scripts. */
function apply(choice) {
  state = choice;
  const choices = choice ? choice.choices : none();
  for (const k of OPTIONAL) choices[k] || clear(k);
  runScripts(choices);
  embeds(choices, !choice);
  d.dispatchEvent(
    new CustomEvent("consent:change", {
      detail: choice || { consent_id: null, choices, policy_version: C.version },
    }),
  );
}

const hasChoice = () => !!(state || (pend && !pend.withdraw));

// ---------------------------------------------------------------------------------------------
// Talking to the service. A choice is stored under `consent_pending` before it is sent and
// removed once the service has answered, so a failed request is sent again, with the same
// request_id, on the `online` event and on the next page load.

let sending = false;

async function flush() {
  const p = pend;
  if (sending || !p) return;
  sending = true;
  let r, body;
  try {
    // A withdrawal is a DELETE with the same kind of body, minus the choice.
    const { withdraw, language, source, request_id } = p;
    r = await fetch(C.api + "/consent", {
      method: withdraw ? "DELETE" : "POST",
      credentials: "include",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(withdraw ? { language, request_id, source } : p),
    });
    body = await r.json();
  } catch {
    // network error or a body that is not JSON: decided by the status below
  }
  sending = false;
  if (!r || r.status > 499 || r.status == 429) return say("pending");
  if (pend != p) return flush(); // a newer choice was made meanwhile: that one counts
  pend = null;
  store();
  if (p.withdraw) {
    say("withdrawn"); // 200, or 404 when there was nothing left to withdraw
  } else if (r.ok) {
    apply({
      consent_id: body.consent_id,
      choices: { necessary: true, ...body.choices },
      policy_version: body.policy_version,
    });
    say("saved");
  } else {
    // Refused, e.g. 409 after a policy change while this file was cached: ask again, with
    // the current policy, rather than lose the choice.
    try {
      policyDoc = 0;
      const p = await policy();
      C.version = p.version;
      T = p.texts[textLang] || T;
    } catch {
      // ask again with what we have
    }
    open();
  }
}

function choose(functional, statistics, source) {
  pend = {
    functional: !!functional,
    statistics: !!statistics,
    policy_version: C.version,
    language: textLang,
    source,
    request_id: uuid(),
  };
  store(pend);
  // Until the service confirms, a new grant waits; a refusal applies now.
  const choices = state && both(state.choices, pend);
  if (state && OPTIONAL.some((k) => choices[k] != state.choices[k])) apply({ ...state, choices });
  close();
  flush();
}

function withdraw(source = "banner") {
  pend = { withdraw: true, language: textLang, source, request_id: uuid() };
  store(pend);
  apply(null);
  close();
  flush();
}

// ---------------------------------------------------------------------------------------------
// The dialog: a native <dialog> in an open shadow root, opened with showModal().

let T; // texts in the page's language
let textLang = LANG;
let ready; // promise: texts loaded and UI built
let box, dialog, status, settingsButton, opener, layerNo, sayTimer;

const text = (tag, key, props) => h(tag, { ...props, textContent: T[key] || key });
const button = (key, onclick) => text("button", key, { type: "button", onclick });

const ui = () =>
  (ready ||= (async () => {
    T = C.texts[LANG];
    if (!T) {
      try {
        T = (await policy()).texts[LANG];
      } catch {
        // fall through to the default language
      }
      if (!T) T = C.texts[(textLang = C.default_language)];
    }
    const host = d.createElement("consent-banner");
    const root = host.attachShadow({ mode: "open" });
    adopt(root, css);
    dialog = h("dialog", { "aria-labelledby": "t", "aria-describedby": "i" });
    // Escape is ours: "back" in settings, nothing on a first visit (ignoring is not consent).
    dialog.onkeydown = (e) => {
      if (e.key == "Escape") {
        e.preventDefault();
        back();
      }
    };
    dialog.oncancel = (e) => e.preventDefault();
    status = h("p", { role: "status" });
    root.append((box = h("div", { lang: textLang, dir: T.dir }, dialog, status)));
    d.body.append(host);
  })());

/** The language switch: one button per language, named in that language. */
const languages = () =>
  C.languages[1] &&
  h(
    "div",
    { className: "lang" },
    ...C.languages.map((l) =>
      h("button", {
        type: "button",
        lang: l,
        textContent: C.switch[l],
        "aria-pressed": l == textLang,
        onclick: () => speak(l),
      }),
    ),
  );

/** Show the banner in language `l` (texts from the policy document); decisions record it. */
async function speak(l) {
  try {
    T = (await policy()).texts[l];
    textLang = l;
    box.lang = l;
    box.dir = T.dir;
  } catch {
    // unreachable service: stay in the current language
  }
  layer(layerNo);
  dialog.querySelector(`[lang="${textLang}"]`).focus();
}

function firstLayer() {
  return [
    text("h2", "title", { id: "t", tabIndex: -1 }),
    h("div", { id: "i" }, ...T.intro.map((p) => h("p", { textContent: p }))),
    GPC && text("p", "gpc"),
    h(
      "div",
      { className: "row" },
      button("accept_all", () => choose(1, !GPC, "banner")),
      button("necessary_only", () => choose(0, 0, "banner")),
      (settingsButton = button("settings", () => layer(1))),
    ),
    languages(),
  ];
}

function settingsLayer() {
  const want = (pend && !pend.withdraw ? pend : state?.choices) || {};
  const switches = {};
  const cats = {};
  const categories = ["necessary", ...OPTIONAL].map((k) => {
    switches[k] = h("input", {
      type: "checkbox",
      role: "switch",
      checked: k == "necessary" || !!want[k],
      disabled: k == "necessary",
      "aria-describedby": "d-" + k,
    });
    return (cats[k] = h(
      "div",
      { className: "cat" },
      h(
        "label",
        {},
        switches[k],
        h("span", { textContent: T.categories[k].label }),
        k == "necessary" && text("span", "always_on", { className: "on" }),
      ),
      h("p", { id: "d-" + k, textContent: T.categories[k].description }),
    ));
  });
  withDetails(cats);
  const id = state?.consent_id;
  return [
    text("h2", "settings_title", { id: "t", tabIndex: -1 }),
    text("p", "settings_intro", { id: "i" }),
    ...categories,
    h("p", { textContent: id ? T.consent_id + ": " + id : T.no_choice }),
    h(
      "div",
      { className: "row" },
      button("save", () => choose(switches.functional.checked, switches.statistics.checked, "settings")),
      button("accept_all", () => choose(1, !GPC, "settings")),
      button("necessary_only", () => choose(0, 0, "settings")),
    ),
    h(
      "div",
      { className: "row" },
      id && button("withdraw", () => withdraw("settings")),
      button(hasChoice() ? "close" : "back", back),
    ),
    languages(),
  ];
}

/**
 * Add each category's declarations (a <details>, drawn by consent-page.js) to the settings
 * layer once they are here: they come with the policy document. Without them, no details.
 */
async function withDetails(cats) {
  try {
    T = T.cookies ? T : (await policy()).texts[textLang];
    const m = await more();
    for (const k in cats) cats[k].append(m.details(T, k));
  } catch {
    // the settings without the declarations' details
  }
}

/** Show layer 0 (first) or 1 (settings); focus its heading, or the settings button on the way back. */
function layer(n, backFromSettings) {
  layerNo = n;

  dialog.replaceChildren(...(n ? settingsLayer() : firstLayer()).filter((k) => k));
  dialog.open || dialog.showModal();
  (backFromSettings ? settingsButton : dialog.querySelector("h2")).focus();
}

async function open(from = d.activeElement) {
  opener = from;
  await ui();
  layer(hasChoice() ? 1 : 0);
}

function close() {
  if (dialog?.open) {
    dialog.close();
    opener?.focus?.();
  }
}

function back() {
  if (hasChoice()) close();
  else if (layerNo) layer(0, 1);
}

/** Announce (and show for a while) one of the status texts in the polite live region. */
async function say(key) {
  await ui();
  status.textContent = "";
  clearTimeout(sayTimer);
  // Set the text in a later task so that screen readers notice a change in a fresh region.
  sayTimer = setTimeout(() => {
    status.textContent = T[key];
    sayTimer = setTimeout(() => (status.textContent = ""), 10000);
  }, 100);
}

// Statistics: silent until a consent:change grants them (apply() below dispatches it).
startTracker(C.api, C.query_params);

// ---------------------------------------------------------------------------------------------
// Start: a returning visitor with a current choice gets it applied and no request at all.

try {
  pend = JSON.parse(localStorage.getItem(PENDING));
} catch {
  // no storage: nothing pending
}
if (pend && !pend.withdraw && pend.policy_version !== C.version) store((pend = null));

function start() {
  const saved = readCookie();
  const tables = d.querySelectorAll("[data-consent-declaration]");
  tables.length && more().then((m) => m?.table(tables));
  if (pend) {
    apply(saved && !pend.withdraw ? { ...saved, choices: both(saved.choices, pend) } : null);
    flush();
  } else if (saved) {
    apply(saved);
  } else {
    runScripts(none());
    embeds(none());
    open();
  }
}
// With `defer` the document is parsed by now; without it, wait for the gated scripts below.
d.readyState == "loading" ? d.addEventListener("DOMContentLoaded", start) : start();

w.addEventListener("online", flush);
d.addEventListener("click", (e) => {
  const t = e.target.closest?.("[data-consent-open],[data-consent-withdraw]");
  if (t) {
    e.preventDefault(); // links may point at the settings page for visitors without JavaScript
    t.hasAttribute("data-consent-open") ? open(t) : withdraw();
  }
});

const api = {
  get: () => state && JSON.parse(JSON.stringify(state)),
  open: () => open(),
  set: (c) => choose(c.functional, c.statistics, "banner"),
  withdraw: () => withdraw(),
  /**
   * Statistics events. A no-op unless statistics is granted; then a `consent:track` event is
   * dispatched, which is where the analytics tracker hooks in.
   */
  track(name, props) {
    if (state?.choices.statistics) {
      d.dispatchEvent(new CustomEvent("consent:track", { detail: { name, props } }));
    }
  },
};

// Calls queued before the script loaded: window.Consent = [["open"], ...] or a function that
// pushes its arguments to `.q` (the Plausible pattern).
const queued = w.Consent;
w.Consent = api;
[].forEach.call((queued && (queued.q || queued)) || [], (a) => api[a[0]]?.(...[].slice.call(a, 1)));
