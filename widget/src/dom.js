// dom.js: the small helpers both embeds use. Each embed is its own bundle, so esbuild copies
// into it only what it imports from here.

export const d = document;
export const w = window;

// The nonce of the <script> tag that loaded this bundle (read while it runs, as
// currentScript is null later). Browsers hide nonce attribute values; the property keeps it.
export const NONCE = d.currentScript?.nonce || "";

/** A version 4 UUID. crypto.randomUUID() needs a secure context, this does not. */
export const uuid = () =>
  "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) =>
    (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16),
  );

/**
 * An element: h("p", {id: "x", "aria-describedby": "y"}, child, "text", ...). Props with a
 * dash, `role` and `for` become attributes, the others properties; falsy children are skipped.
 */
export const h = (tag, props, ...kids) => {
  const e = d.createElement(tag);
  for (const k in props) /-|role|for/.test(k) ? e.setAttribute(k, props[k]) : (e[k] = props[k]);
  e.append(...kids.filter((k) => k));
  return e;
};

/** The page's language (`<html lang="sv-SE">` -> "sv") if it is one of `langs`, else `fallback`. */
export const pageLang = (langs, fallback) => {
  const tag = d.documentElement.lang.toLowerCase();
  return [tag, tag.split("-")[0]].find((l) => langs.includes(l)) || fallback;
};

/** Apply the embed's CSS to its shadow root without inline styles: a constructable stylesheet,
 * or, where there is none, a <style> with the embedding script's nonce. */
export const adopt = (root, css) => {
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } catch {
    root.append(h("style", { nonce: NONCE, textContent: css }));
  }
};
