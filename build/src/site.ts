// Stage 6: mkdocs. Debian's /usr/bin/mkdocs, not `python3 -m mkdocs`: a pyenv python on PATH
// would shadow Debian's packages.

import { spawn } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

export const MKDOCS = process.env.MKDOCS ?? "/usr/bin/mkdocs";

const SETUP = "run `bash scripts/setup.sh` (it installs Debian's mkdocs, mkdocs-material and python3-pymdownx), or set MKDOCS to an mkdocs binary that has them";

/** mkdocs ran, but without the theme or the Markdown extensions mkdocs.yml names. */
const MISSING_PART = /Unrecognised theme name|No module named|Failed to load extension|Couldn't find extension|ModuleNotFoundError/;

/**
 * Builds the site from `docsDir` into `siteDir`. Other folders than mkdocs.yml's own (a fixture
 * book's site, say) go through a temporary config that inherits everything else from it.
 */
export async function mkdocsBuild(root: string, docsDir?: string, siteDir?: string): Promise<{ ok: boolean; output: string }> {
  let config = path.join(root, "mkdocs.yml");
  if (docsDir || siteDir) {
    const dir = await mkdtemp(path.join(tmpdir(), "book-mkdocs-"));
    config = path.join(dir, "mkdocs.yml");
    const lines = [`INHERIT: ${JSON.stringify(path.join(root, "mkdocs.yml"))}`];
    if (docsDir) lines.push(`docs_dir: ${JSON.stringify(docsDir)}`);
    if (siteDir) lines.push(`site_dir: ${JSON.stringify(siteDir)}`);
    await writeFile(config, lines.join("\n") + "\n");
  }
  return new Promise<{ ok: boolean; output: string }>((resolve) => {
    const p = spawn(MKDOCS, ["build", "--strict", "--quiet", "-f", config], { cwd: root });
    let output = "";
    p.stdout.on("data", (d) => (output += d));
    p.stderr.on("data", (d) => (output += d));
    p.on("error", (e) => resolve({ ok: false, output: `could not start ${MKDOCS}: ${e.message}; ${SETUP}` }));
    p.on("close", (code) => resolve({ ok: code === 0, output: code !== 0 && MISSING_PART.test(output) ? `${output.trimEnd()}\n${SETUP}` : output }));
  }).then(async (r) => {
    if (r.ok) await unsearchSources(siteDir ?? path.join(root, "site"));
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
