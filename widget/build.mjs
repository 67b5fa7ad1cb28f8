// Builds the embeds: `cd widget && npm ci && node build.mjs`.
//
// Output: ../consent_service/static/embed/consent.js (the banner) and ideas.js (the idea
// widget), each one minified IIFE with the minified CSS inlined as a string. The service
// injects the config (policy version, default-language texts) where the bare identifier
// __CONSENT_CONFIG__ (or __IDEAS_CONFIG__) stands, so it must survive exactly once.

import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build, transform } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outfile = resolve(here, "../consent_service/static/embed/consent.js");
const policyFile = resolve(here, "../consent_service/policy/uppsala.toml");
const PLACEHOLDER = "__CONSENT_CONFIG__";
const BUDGET = 6000; // gzip -9 bytes as served, with the default language's texts

// Browsers of about the last three years; all have <dialog> and shadow DOM.
const target = ["chrome109", "edge109", "firefox109", "safari15.4"];

// `import css from "./x.css"` gives the minified stylesheet as a string.
const cssText = {
  name: "css-text",
  setup(b) {
    b.onLoad({ filter: /\.css$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const { code } = await transform(source, { loader: "css", minify: true, target });
      return { contents: code.trim(), loader: "text" };
    });
  },
};

/** Bundle one embed; the server fills in `placeholder` (if any), so it must occur exactly once. */
async function buildEmbed(entry, out, placeholder) {
  mkdirSync(dirname(out), { recursive: true });
  await build({
    entryPoints: [resolve(here, entry)],
    outfile: out,
    bundle: true,
    format: "iife",
    minify: true,
    target,
    legalComments: "none",
    charset: "utf8",
    plugins: [cssText],
    logLevel: "warning",
  });
  const built = readFileSync(out, "utf8");
  if (!placeholder) return built;
  const count = built.split(placeholder).length - 1;
  if (count !== 1) {
    console.error(`${out}: ${placeholder} occurs ${count} times, expected exactly once`);
    process.exit(1);
  }
  return built;
}

const code = await buildEmbed("src/consent.js", outfile, PLACEHOLDER);

const gz = (text) => gzipSync(Buffer.from(text), { level: 9 }).length;
console.log(`consent.js: ${Buffer.byteLength(code)} B raw, ${gz(code)} B gzip -9 (without config)`);

// Estimate the size as served: the config the service injects, built from the policy file.
// Needs python3 (tomllib); skipped quietly without it.
const estimate = spawnSync(
  "python3",
  [
    "-c",
    `
import json, sys, tomllib
p = tomllib.load(open(sys.argv[1], "rb"))
lang = p["default_language"]
# As consent_service/embed/views.py: without the texts only the no-JS page shows, and without
# those fetched from the policy document when needed (declarations' details, embed texts).
skip = ("page_title", "page_intro", "page_saved_return", "language_switch", "cookies",
        "cookie_name", "cookie_provider", "cookie_purpose", "cookie_lifetime", "no_cookies",
        "cookies_heading", "embed_notice", "embed_once")
texts = {k: v for k, v in p["texts"][lang].items() if k not in skip}
texts["intro"] = texts["intro"] if isinstance(texts["intro"], list) else [texts["intro"]]
cats = ("functional", "statistics")
cookies = p.get("cookies", [])
origin = "https://samtycke.uppsala.se"
print(json.dumps({
  "api": origin + "/api/v1", "settings_url": origin + "/consent",
  "version": p["version"], "default_language": lang, "languages": p["languages"], "cookie": "consent",
  "cookies": {k: [c["name"] for c in cookies if c["category"] == k] for k in cats},
  "storage": {k: [s for c in cookies if c["category"] == k for s in c.get("storage", [])] for k in cats},
  "switch": {l: p["texts"][l]["language_switch"] for l in p["languages"]},
  "texts": {lang: texts}, "page": origin + "/embed/consent-page.js", "query_params": []},
  ensure_ascii=False))
`,
    policyFile,
  ],
  { encoding: "utf8" },
);
if (estimate.status === 0) {
  const served = code.replace(PLACEHOLDER, estimate.stdout.trim());
  const size = gz(served);
  console.log(
    `as served with the ${policyFile.split("/").pop()} texts: ${Buffer.byteLength(served)} B raw, ` +
      `${size} B gzip -9 (budget ${BUDGET} B)`,
  );
  if (size > BUDGET) {
    console.error("over the size budget");
    process.exit(1);
  }
  writeFileSync(resolve(here, "node_modules/.consent-served.js"), served);
}

// --- the banner's page parts (gated embeds' placeholders, declaration table), loaded lazily ---

const pageCode = await buildEmbed(
  "src/consent-page.js",
  resolve(here, "../consent_service/static/embed/consent-page.js"),
);
console.log(`consent-page.js: ${Buffer.byteLength(pageCode)} B raw, ${gz(pageCode)} B gzip -9 (loaded when needed)`);

// --- the idea widget ---------------------------------------------------------------------------

const ideasOut = resolve(here, "../consent_service/static/embed/ideas.js");
const IDEAS_PLACEHOLDER = "__IDEAS_CONFIG__";
const IDEAS_BUDGET = 5000; // gzip -9 bytes as served, CSS and the default language included

const ideasCode = await buildEmbed("src/ideas.js", ideasOut, IDEAS_PLACEHOLDER);
console.log(`ideas.js: ${Buffer.byteLength(ideasCode)} B raw, ${gz(ideasCode)} B gzip -9 (without config)`);

// The config as the service builds it (consent_service/ideas/widget.py), from the TOML files.
const ideasEstimate = spawnSync(
  "python3",
  [
    "-c",
    `
import json, sys, tomllib
texts = tomllib.load(open(sys.argv[1], "rb"))
areas = tomllib.load(open(sys.argv[2], "rb"))["areas"]
lang = texts["default_language"]
origin = "https://samtycke.uppsala.se"
print(json.dumps({
  "api": origin + "/api/v1/ideas", "nojs": origin + "/ideas/new", "lang": lang,
  "langs": texts["languages"], "limits": {"title": 120, "body": 4000, "name": 120, "email": 254},
  "form": {"texts": texts[lang]["widget"],
           "areas": [{"id": a["id"], "label": a["labels"][lang]} for a in areas if not a.get("retired")],
           "dir": texts[lang]["dir"]}}, ensure_ascii=False))
`,
    resolve(here, "../consent_service/ideas/texts.toml"),
    resolve(here, "../consent_service/ideas/areas.toml"),
  ],
  { encoding: "utf8" },
);
if (ideasEstimate.status === 0) {
  const served = ideasCode.replace(IDEAS_PLACEHOLDER, ideasEstimate.stdout.trim());
  const size = gz(served);
  console.log(
    `ideas.js as served: ${Buffer.byteLength(served)} B raw, ${size} B gzip -9 (budget ${IDEAS_BUDGET} B)`,
  );
  if (size > IDEAS_BUDGET) {
    console.error("ideas.js is over its size budget");
    process.exit(1);
  }
}
