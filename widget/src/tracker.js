// tracker.js: consent-gated statistics, bundled into consent.js.
//
// Silent until the banner reports `statistics` granted (the `consent:change` event); a
// withdrawal stops it at once and drops whatever was queued. The server checks the consent
// cookie again and stores nothing without it. Events are batched and sent with sendBeacon
// as text/plain (no CORS preflight), at the latest when the page is hidden.
// See docs/analytics.md.

import { d, w } from "./dom.js";

/** Start listening; `api` is the service's /api/v1 URL, `params` the allow-listed query keys. */
export function startTracker(api, params) {
  let on = false;
  let queue = [];
  let timer = 0;
  let last; // the path of the last page view, so that one page counts once
  let referrer = (d.referrer.match(/^https?:\/\/[^/?#]+/) || [])[0];

  const send = () => {
    clearTimeout(timer);
    timer = 0;
    if (on && queue.length) navigator.sendBeacon(api + "/events", JSON.stringify({ events: queue }));
    queue = [];
  };
  const push = (event) => {
    if (!on) return;
    queue.push(event);
    queue.length > 19 ? send() : (timer ||= setTimeout(send, 2000));
  };
  // The path with only the allow-listed query parameters; never the fragment.
  const path = () => {
    const kept = new URLSearchParams();
    new URLSearchParams(location.search).forEach((v, k) => params.includes(k) && kept.append(k, v));
    const query = "" + kept;
    return location.pathname + (query && "?" + query);
  };
  const view = () => {
    const p = path();
    if (on && p != last) {
      const width = w.innerWidth;
      push({
        type: "pageview",
        path: (last = p),
        referrer,
        screen: width < 600 ? "small" : width < 1024 ? "medium" : "large",
      });
      referrer = undefined; // later views of a single-page app come from this page
    }
  };

  d.addEventListener("consent:change", (e) => {
    on = e.detail.choices.statistics;
    on ? view() : ((queue = []), (last = 0), send());
  });
  // Single-page apps: pushState and the back/forward buttons change the page.
  const pushState = history.pushState;
  history.pushState = function () {
    pushState.apply(this, arguments);
    view();
  };
  w.addEventListener("popstate", view);
  // Outbound links: sent at once, since the page is about to go away.
  d.addEventListener(
    "click",
    (e) => {
      const a = e.target.closest?.("a[href]");
      if (a && a.host != location.host && /^https?:$/.test(a.protocol)) {
        push({ type: "event", name: "outbound", path: path(), props: { host: a.hostname } });
        send();
      }
    },
    true,
  );
  // Consent.track(name, props): the banner dispatches consent:track only with statistics on.
  d.addEventListener("consent:track", (e) =>
    push({ type: "event", name: e.detail.name, path: path(), props: e.detail.props }),
  );
  d.addEventListener("visibilitychange", () => d.hidden && send());
}
