// Stage 6: mkdocs. Debian's /usr/bin/mkdocs, not `python3 -m mkdocs`: a pyenv python on PATH
// would shadow Debian's packages.

import { spawn } from "node:child_process";
import { mkdtemp, readFile, readdir, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

export const MKDOCS = process.env.MKDOCS ?? "/usr/bin/mkdocs";

const SETUP = "run `bash scripts/setup.sh` (it installs Debian's mkdocs, mkdocs-material and python3-pymdownx), or set MKDOCS to an mkdocs binary that has them";

/** mkdocs ran, but without the theme or the Markdown extensions mkdocs.yml names. */
const MISSING_PART = /Unrecognised theme name|No module named|Failed to load extension|Couldn't find extension|ModuleNotFoundError/;

/**
 * The settings of mkdocs.yml that name paths relative to it (the theme's `custom_dir`, the
 * `hooks`), as lines of a config elsewhere that inherits it: mkdocs resolves such a path against
 * the config that names it, so the inheriting one must name them absolutely. Read from mkdocs.yml,
 * so that a hook added there reaches every build.
 */
export function inheritedPaths(yml: string, root: string): string[] {
  const lines: string[] = [];
  const customDir = /^[ \t]+custom_dir:[ \t]*(\S+)/m.exec(yml)?.[1];
  if (customDir) lines.push(`theme: { custom_dir: ${JSON.stringify(path.join(root, customDir))} }`);
  const hooks = [.../^hooks:\n((?:[ \t]+- .+\n)+)/m.exec(yml)?.[1]?.matchAll(/- (\S+)/g) ?? []].map((m) => path.join(root, m[1]!));
  if (hooks.length > 0) lines.push(`hooks: [${hooks.map((h) => JSON.stringify(h)).join(", ")}]`);
  return lines;
}

/**
 * Builds the site from `docsDir` into `siteDir`. Other folders than mkdocs.yml's own (a fixture
 * book's site, say) go through a temporary config that inherits everything else from it.
 */
export async function mkdocsBuild(root: string, docsDir?: string, siteDir?: string, opts: { dirty?: boolean } = {}): Promise<{ ok: boolean; output: string }> {
  let config = path.join(root, "mkdocs.yml");
  // Watch mode: `--dirty` rebuilds only the pages whose Markdown is newer than their HTML
  // (render.ts keeps unchanged pages' times). mkdocs warns that a dirty build may have stale
  // navigation, and strict mode would make that warning fatal: so a dirty build is not strict
  // (the next `npm run build` is), and its search index, which holds only the rebuilt pages, is
  // merged into the previous one.
  const dirty = !!opts.dirty;
  const site = siteDir ?? path.join(root, "site");
  if (docsDir || siteDir || dirty) {
    const dir = await mkdtemp(path.join(tmpdir(), "book-mkdocs-"));
    config = path.join(dir, "mkdocs.yml");
    const lines = [`INHERIT: ${JSON.stringify(path.join(root, "mkdocs.yml"))}`];
    lines.push(`docs_dir: ${JSON.stringify(docsDir ?? path.join(root, "docs/generated"))}`);
    lines.push(`site_dir: ${JSON.stringify(site)}`);
    lines.push(...inheritedPaths(await readFile(path.join(root, "mkdocs.yml"), "utf8"), root));
    if (dirty) lines.push("strict: false");
    await writeFile(config, lines.join("\n") + "\n");
  }
  const before = dirty ? await readFile(path.join(site, "search/search_index.json"), "utf8").catch(() => null) : null;
  // Pages mkdocs writes from here on (less a margin for coarse file times); a dirty build leaves
  // the others as the build that wrote them left them.
  const writtenSince = Date.now() - 2000;
  return new Promise<{ ok: boolean; output: string }>((resolve) => {
    const p = spawn(MKDOCS, ["build", dirty ? "--dirty" : "--strict", "--quiet", "-f", config], { cwd: root });
    let output = "";
    p.stdout.on("data", (d) => (output += d));
    p.stderr.on("data", (d) => (output += d));
    p.on("error", (e) => resolve({ ok: false, output: `could not start ${MKDOCS}: ${e.message}; ${SETUP}` }));
    p.on("close", (code) => resolve({ ok: code === 0, output: code !== 0 && MISSING_PART.test(output) ? `${output.trimEnd()}\n${SETUP}` : output }));
  }).then(async (r) => {
    if (r.ok && before !== null) await mergeSearchIndex(site, before);
    if (r.ok) await unsearchSources(site);
    if (r.ok) await unwrapWhitespaceIn(site, writtenSince);
    return r;
  });
}

/**
 * The model's source pages (src/, source-pages.ts) are reached from trace labels and the
 * reference, not by search: their entries would add a megabyte to the index every reader loads.
 */
async function unsearchSources(siteDir: string): Promise<void> {
  const file = path.join(siteDir, "search/search_index.json");
  let index: { docs: { location: string }[] };
  try { index = JSON.parse(await readFile(file, "utf8")); } catch { return; }
  index.docs = index.docs.filter((d) => !d.location.startsWith("src/"));
  await writeFile(file, JSON.stringify(index));
}

/**
 * Pygments wraps every run of whitespace in code in `<span class="w">`, which neither Material's
 * stylesheets nor the book's (build/site/book.css) style: on chapter 01's page, 4,100 of them were a
 * tenth of its weight (every page must stay under 1 MiB: test/site/book.spec.ts). Unwrapped, the
 * code's text and look are the same. Only pygments' markup has that exact tag: the chapters write
 * no raw HTML, and a `<` in their text or code is escaped.
 */
export function unwrapWhitespace(html: string): string {
  return html.replace(/<span class="w">([^<]*)<\/span>/g, "$1");
}

/** unwrapWhitespace on every page of `siteDir` written since `since` (ms): reading all 30 MB of the
 *  site took 0.3 s, every watch rebuild, for the one or two pages a dirty build rewrites. */
async function unwrapWhitespaceIn(siteDir: string, since: number): Promise<void> {
  const pages = (await readdir(siteDir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile() && e.name.endsWith(".html"));
  for (const e of pages) {
    const file = path.join(e.parentPath, e.name);
    if ((await stat(file)).mtimeMs < since) continue;
    const html = await readFile(file, "utf8");
    const out = unwrapWhitespace(html);
    if (out !== html) await writeFile(file, out);
  }
}

/** After a dirty build: the previous index, with the entries of the pages just rebuilt replaced. */
async function mergeSearchIndex(siteDir: string, before: string): Promise<void> {
  const file = path.join(siteDir, "search/search_index.json");
  type Index = { docs: { location: string }[] };
  let now: Index, old: Index;
  try { now = JSON.parse(await readFile(file, "utf8")); old = JSON.parse(before); } catch { return; }
  const page = (loc: string) => loc.split("#")[0]!;
  const rebuilt = new Set(now.docs.map((d) => page(d.location)));
  now.docs = [...old.docs.filter((d) => !rebuilt.has(page(d.location))), ...now.docs];
  await writeFile(file, JSON.stringify(now));
}
