// ideas.js: the idea widget. Every `<div data-idea-widget data-topic="…">` on the page becomes
// a short form in its own shadow root that sends the citizen's idea to the consent service.
//
// Nothing is requested until the citizen starts typing (then the signed form time stamp is
// fetched), no cookie is sent or set, and analytics events go only through
// window.Consent.track, which drops them without statistics consent.

import css from "./ideas.css";
import { adopt, d, h, pageLang, uuid, w } from "./dom.js";

// The service replaces this bare identifier with the JSON config when it serves the file.
// eslint-disable-next-line no-undef
const C = __IDEAS_CONFIG__;

const LANG = pageLang(C.langs, C.lang);
const L = C.limits;
const track = (name, props) => w.Consent?.track?.(name, props);

/** GET /form: the areas and texts of a language (and a challenge's question) and a fresh
 * signed form time stamp. */
const getForm = (ch, lang) =>
  fetch(C.api + "/form?lang=" + lang + (ch ? "&challenge=" + encodeURIComponent(ch) : ""), {
    credentials: "omit",
  }).then((r) =>
    r.ok ? r.json() : Promise.reject(r),
  );

async function mount(host) {
  const topic = host.dataset.topic || "";
  // data-challenge: the question comes from the service, so the form is fetched at once.
  const ch = host.dataset.challenge;
  // data-language: a language or a variant such as "sv-lattlast" (easy Swedish), from /form.
  const lang = host.dataset.language || LANG;
  let F = !ch && lang == C.lang && C.form;
  let formP; // promise of the GET /form answer (its form_token counts the fill time)
  const form = () => (formP ||= getForm(ch, lang).catch((e) => ((formP = 0), Promise.reject(e))));
  if (!F) {
    try {
      F = await form();
    } catch {
      F = C.form; // the service is unreachable: show the default language
    }
  }
  const T = F.texts;
  const Q = F.challenge;
  const fill = (key, n) => T[key].replace("{max}", L[n] || "").replace("{n}", n);
  const root = host.attachShadow({ mode: "open" });
  adopt(root, css);
  const wrap = h("div", { lang: F.language || C.lang, dir: F.dir });
  root.append(wrap);
  // The funnel: shown (drawn on a page view), opened (first focus or input in a form),
  // started (first input), submitted. Each form counts once; "send another" is a new form.
  track("idea_shown", { topic });

  let requestId, busy, started, opened;
  const use = () => opened || ((opened = 1), track("idea_opened", { topic }));

  function render() {
    // A challenge that takes no ideas now: say when, and offer the form without it.
    if (Q && !Q.open)
      return wrap.replaceChildren(
        h("p", { textContent: Q.message }),
        h("p", {}, h("a", { href: C.nojs + "?lang=" + lang, textContent: T.nojs })),
      );
    requestId = uuid();
    const fields = {};
    const errors = {};
    const counts = {};

    // A labelled control with an error slot (and a character count for limited text).
    const field = (id, control, label, required, count) => {
      fields[id] = control;
      control.id = id;
      errors[id] = h("p", { id: id + "-e", className: "e" });
      const described = [id + "-e"];
      if (count) {
        counts[id] = h("p", { id: id + "-c", className: "c" });
        described.push(id + "-c");
      }
      control.setAttribute("aria-describedby", described.join(" "));
      return h(
        "div",
        { className: "f" },
        h("label", { for: id }, T[label], required && h("span", { textContent: " (" + T.required + ")" })),
        errors[id],
        control,
        counts[id],
      );
    };

    const area = h("select", { name: "area" }, h("option", { value: "", textContent: T.choose }));
    for (const a of F.areas) area.append(h("option", { value: a.id, textContent: a.label }));
    const ok = h("input", { type: "checkbox", id: "contact_ok" });
    fields.contact_ok = ok;
    errors.contact_ok = h("p", { id: "contact_ok-e", className: "e" });
    ok.setAttribute("aria-describedby", "contact_ok-e");
    const trap = h("input", { type: "text", id: "website", tabIndex: -1, autocomplete: "off" });
    const alert = h("p", { role: "alert" });
    const status = h("p", { role: "status", className: "s" });
    const submit = h("button", { type: "submit", textContent: T.submit });

    const counted = (id) => {
      const left = L[id] - fields[id].value.length;
      counts[id].textContent = fill(left < 0 ? "over" : "left", Math.abs(left));
      const long = fill(id + "_long", id);
      if (left < 0) invalid(id, long);
      else if (errors[id].textContent == long) invalid(id);
    };
    const invalid = (id, message) => {
      errors[id].textContent = message || "";
      message ? fields[id].setAttribute("aria-invalid", "true") : fields[id].removeAttribute("aria-invalid");
    };

    const el = h(
      "form",
      { noValidate: true },
      Q && h("p", { className: "q", lang: Q.lang, textContent: Q.question }),
      h("p", { textContent: T.intro }),
      field("title", h("input", { type: "text", name: "title" }), "title", 1, 1),
      field("body", h("textarea", { name: "body", rows: 5 }), "body", 1, 1),
      field("area", area, "area", 1),
      h(
        "fieldset",
        {},
        h("legend", { textContent: T.contact }),
        field("name", h("input", { type: "text", name: "name", autocomplete: "name" }), "name"),
        field("email", h("input", { type: "email", name: "email", autocomplete: "email" }), "email"),
        h("div", { className: "k" }, ok, h("label", { for: "contact_ok", textContent: T.contact_ok })),
        errors.contact_ok,
      ),
      h("div", { className: "hp", "aria-hidden": "true" }, h("label", { for: "website", textContent: T.trap }), trap),
      h("p", { textContent: T.public }),
      h("p", { textContent: T.next }),
      alert,
      submit,
      status,
    );
    counted("title");
    counted("body");

    el.addEventListener("focusin", use);
    el.oninput = (e) => {
      use();
      if (!started) {
        started = 1;
        track("idea_started", { topic });
        form().catch(() => 0); // the time stamp: fetched now, awaited on submit
      }
      if (counts[e.target.id]) counted(e.target.id);
    };

    /** The same rules as the server; returns the first invalid control or null. */
    function check() {
      const v = (id) => fields[id].value.trim();
      const rules = {
        title: !v("title") ? "title_missing" : v("title").replace(/\s+/g, " ").length > L.title && "title_long",
        body: !v("body") ? "body_missing" : fields.body.value.trim().length > L.body && "body_long",
        area: !area.value && "area_missing",
        name: v("name").length > L.name && "name_long",
        email:
          v("email") && (v("email").length > L.email || !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(v("email")))
            ? "email_invalid"
            : ok.checked && !v("email") && "email_missing",
        contact_ok: v("email") && !ok.checked && "contact_ok_missing",
      };
      if (rules.email) rules.contact_ok = 0;
      return show(rules);
    }

    function show(rules) {
      let first = null;
      for (const id in errors) {
        invalid(id, rules[id] && fill(rules[id], id));
        if (rules[id]) first ||= fields[id];
      }
      return first;
    }

    async function send() {
      const v = (id) => fields[id].value;
      let r, body;
      try {
        const f = await form();
        r = await fetch(C.api, {
          method: "POST",
          credentials: "omit",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({
            title: v("title"),
            body: v("body"),
            area: area.value,
            topic,
            page: location.origin + location.pathname,
            name: v("name"),
            email: v("email").trim(),
            contact_ok: ok.checked,
            language: lang,
            form_token: f.form_token,
            website: trap.value,
            request_id: requestId,
            challenge: ch,
          }),
        });
        body = await r.json();
      } catch {
        // unreachable, or an answer that is not JSON: decided below
      }
      if (r?.status == 201 && body) return done(body);
      if (!r || r.status > 499 || !body) {
        const link = h("a", {
          href: C.nojs + "?" + new URLSearchParams({ lang, topic, page: location.origin + location.pathname }),
          textContent: T.nojs,
        });
        return say(alert, T.unreachable + " ", link);
      }
      if (body.fields) {
        say(alert, T.errors);
        return show(body.fields)?.focus();
      }
      // Rate limit, or a challenge that closed while the form was open: the server's words.
      say(alert, r.status == 429 || r.status == 409 ? body.message : T.failed);
    }

    el.onsubmit = async (e) => {
      e.preventDefault();
      if (busy) return;
      say(alert);
      const first = check();
      if (first) {
        say(alert, T.errors);
        return first.focus();
      }
      busy = 1;
      submit.setAttribute("aria-disabled", "true");
      say(status, T.sending);
      await send();
      busy = 0;
      submit.removeAttribute("aria-disabled");
      say(status);
    };

    wrap.replaceChildren(el);
  }

  function done(body) {
    track("idea_submitted", { topic });
    started = opened = 0;
    formP = 0;
    const box = h(
      "div",
      { className: "ok", tabIndex: -1 },
      h("p", { className: "r", textContent: T.thanks }),
      h("p", {}, T.reference + " ", h("strong", { textContent: body.reference })),
      h("p", {}, h("a", { href: body.status_url, textContent: T.status })),
      h("p", { textContent: T.keep }),
      h("button", { type: "button", textContent: T.another, onclick: render }),
    );
    wrap.replaceChildren(box);
    box.focus();
  }

  render();
}

/** Replace a live region's content (in a new task, so that screen readers notice). */
function say(region, ...content) {
  region.textContent = "";
  if (content.length) setTimeout(() => region.append(...content), 50);
}

for (const host of d.querySelectorAll("[data-idea-widget]")) {
  if (!host.shadowRoot) mount(host);
}
