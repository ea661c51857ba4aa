// The machine's source and reference as pages of the site, generated from lib/ and its READMEs
// (nothing here is maintained by hand), and the links from trace labels to the model code.
//
// - `src/lib/<dir>/<file>.ts/`: one page a source file, every line with an anchor (`#L42`), like
//   rustdoc's [src]; above the code, what the file says it models (its header comment) and the
//   rows of lib/kernel/README.md's "Kernel function → model" table that name it.
// - `reference/`: lib/kernel/README.md and README-devices.md (the API, granularity, oracles and
//   the simplifications with which way each errs), and an index of every kernel function the
//   model defines, with its source line.
// - A trace label ("do_munmap › unmap_vmas › zap_pte_range(proc:0..1)") links to the model of its
//   innermost frame that lib/ defines: a function of that name, or the `enter(k, "name")` /
//   `call("name", …)` that pushes the frame.

import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { escapeHtml as esc } from "./escape.ts";

export interface SourceFile { file: string; text: string }
export interface Def { file: string; line: number }
export interface SourceIndex { files: SourceFile[]; defs: Map<string, Def> }

const DEF = /^\s*export\s+(?:async\s+)?function\*?\s+([A-Za-z_]\w*)/;
const FRAME = /\b(?:enter\(\s*\w+\s*,\s*|call\(\s*)"([A-Za-z_][\w.]*)"/g;

/** Every `.ts` file under lib/, and where each function name and frame is defined. */
export function indexSources(root: string): SourceIndex {
  const files: SourceFile[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(path.join(root, dir), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const rel = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith(".ts")) files.push({ file: rel, text: readFileSync(path.join(root, rel), "utf8") });
    }
  };
  walk("lib");
  const defs = new Map<string, Def>();
  const frames = new Map<string, Def>();
  for (const f of files) {
    f.text.split("\n").forEach((l, i) => {
      const d = DEF.exec(l);
      if (d && !defs.has(d[1]!)) defs.set(d[1]!, { file: f.file, line: i + 1 });
      for (const m of l.matchAll(FRAME)) if (!frames.has(m[1]!)) frames.set(m[1]!, { file: f.file, line: i + 1 });
    });
  }
  // A function of the frame's name is the better target; a bare enter()/call() the fallback.
  for (const [name, d] of frames) if (!defs.has(name)) defs.set(name, d);
  return { files, defs };
}

/** The site URL of a source file's page, from the site's root: "src/lib/kernel/mm.ts/". */
export const sourcePath = (file: string) => `src/${file}/`;
/** The Markdown file of that page, in the generated docs: "src/lib/kernel/mm.ts.md". */
export const sourceDoc = (file: string) => `src/${file}.md`;

/** The model of a label's innermost frame that lib/ defines, if any. */
export function labelSource(index: SourceIndex, label: string): Def | null {
  const frames = label.split(" › ");
  for (let i = frames.length - 1; i >= 0; i--) {
    const name = /^[A-Za-z_][\w.]*/.exec(frames[i]!.trim())?.[0];
    const d = name ? index.defs.get(name) ?? index.defs.get(name.split(".").pop()!) : undefined;
    if (d) return d;
  }
  return null;
}

/** The leading `//` comment of a file: what it models, in its own words. */
function headerComment(text: string): string {
  const out: string[] = [];
  for (const l of text.split("\n")) {
    if (!/^\s*\/\//.test(l)) break;
    out.push(l.replace(/^\s*\/\/ ?/, ""));
  }
  return out.join("\n").trim();
}

/** Rows of README.md's "Kernel function → model" table whose model cell names `file`. */
function modelledBy(readme: string, file: string): string[][] {
  const base = path.basename(file);
  const rows: string[][] = [];
  let inTable = false;
  for (const l of readme.split("\n")) {
    if (/^## Kernel function → model/.test(l)) { inTable = true; continue; }
    if (inTable && /^## /.test(l)) break;
    if (!inTable || !l.startsWith("|") || /^\|\s*-/.test(l) || /^\| Kernel \(file/.test(l)) continue;
    const cells = l.split("|").slice(1, -1).map((c) => c.trim());
    if (cells[1] && cells[1].split(/[\s,;]+/).includes(base)) rows.push(cells);
  }
  return rows;
}

/** One source file as a page: what it models, then its lines, each with an anchor. */
export function sourcePage(f: SourceFile, readme: string): string {
  const lines = f.text.replace(/\n$/, "").split("\n");
  const width = String(lines.length).length;
  const body = lines.map((l, i) => `<span class="book-src-line" id="L${i + 1}"><a class="book-src-ln" href="#L${i + 1}">${String(i + 1).padStart(width)}</a>  ${esc(l)}</span>`).join("&#10;");
  const about = headerComment(f.text);
  const rows = modelledBy(readme, f.file);
  const out = [`# ${f.file}`, ""];
  if (rows.length) out.push(`Models, per [the machine's reference](${"../".repeat(f.file.split("/").length)}reference/index.md#kernel-function-model):`, "", "| Kernel (file, function) | Model |", "|---|---|", ...rows.map((r) => `| ${r[0]} | ${r[1]} |`), "");
  if (about) out.push(`<pre class="book-src-about">${esc(about).replace(/\n/g, "&#10;")}</pre>`, "");
  out.push(`<pre class="book-src">${body}</pre>`, "");
  return out.join("\n");
}

/** Every kernel-named function and frame the model defines (snake_case names), with its source line. */
export function functionsPage(index: SourceIndex): string {
  const names = [...index.defs.keys()].filter((n) => /^_*[a-z][a-z0-9]*(_[a-z0-9]+)+$/.test(n)).sort((a, b) => a.replace(/^_+/, "").localeCompare(b.replace(/^_+/, "")));
  const out = ["# Kernel functions in the model", "", "Every function or call frame of `lib/` with a kernel-style name, generated from the code. The kernel file each models is on its source page and in [the reference](index.md#kernel-function-model).", "", "| Function | Model source |", "|---|---|"];
  for (const n of names) {
    const d = index.defs.get(n)!;
    out.push(`| \`${n}\` | [${d.file}:${d.line}](../${sourceDoc(d.file)}#L${d.line}) |`);
  }
  return out.join("\n") + "\n";
}

/** A README as a page of the site: its relative links to lib/ files go to their source pages. */
export function referencePage(readme: string, from: string): string {
  return readme.replace(/\]\((?!https?:|#|mailto:)([^)\s]+)\)/g, (m, target: string) => {
    const [p, hash] = target.split("#") as [string, string | undefined];
    const abs = path.posix.normalize(path.posix.join(path.posix.dirname(from), p));
    if (abs.startsWith("lib/") && abs.endsWith(".ts")) return `](../${sourceDoc(abs)}${hash ? "#" + hash : ""})`;
    if (abs.startsWith("lib/") && abs.endsWith(".md")) return `](${path.posix.basename(abs) === "README.md" ? "index.md" : path.posix.basename(abs)}${hash ? "#" + hash : ""})`;
    return `](https://git.example.org/userptr-rfc/blob/main/${abs}${hash ? "#" + hash : ""})`;
  });
}
