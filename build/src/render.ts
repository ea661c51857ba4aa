// Stage 5: write the mkdocs input folder: each chapter as written, with every block's result
// inserted after its closing fence, and fence options and directives removed.

import { mkdir, readFile, rm, writeFile, copyFile } from "node:fs/promises";
import { syncDir } from "./sync-dir.ts";
import path from "node:path";
import { splitLines, type Extract } from "./extract.ts";
import type { BlockResult, ChapterResult, Results } from "./results.ts";
import { formatDiagnostic, type Diagnostic } from "./diagnostic.ts";
import { warningsHtml } from "./warnings.ts";
import { claimHtml, isClaim, type Emit, type LabelLink } from "./claim-view.ts";
import { functionsPage, indexSources, labelSource, referencePage, sourceDoc, sourcePage, sourcePath } from "./source-pages.ts";
import type { Change } from "./diff.ts";
import type { Directive } from "./directives.ts";
import type { ChapterStates } from "./pipeline.ts";
import { scoreboardTable } from "./scoreboard.ts";
import { changesBanner, changesPage, indexPage, scoreboardPage } from "./pages.ts";

import { escapeHtml } from "./escape.ts";
import { blockAnchor } from "./anchors.ts";

/** Raw HTML inside Markdown must not contain blank lines; newlines in `<pre>` become entities. */
function pre(cls: string, text: string): string {
  return `<pre class="${cls}">${escapeHtml(text).replace(/\n/g, "&#10;")}</pre>`;
}

const BADGE: Record<BlockResult["status"], string> = {
  passed: "✓ passed", failed: "✗ failed", skipped: "○ skipped", evaluated: "✓ evaluated", "not-run": "– not run",
};


/** A block's witness states by record index (pipeline.ts ChapterStates, one block's part). */
type BlockStates = Record<string, unknown> | undefined;

/** `i`: the record's index (states are keyed by it); `claim`: its index among the block's claims,
 * which names its anchor, as the scoreboard and index link it (claim-view.ts claimsIn). */
function recordHtml(file: string, b: BlockResult, r: unknown, i: number, claim: number, emit?: Emit, link?: LabelLink, states?: BlockStates): string {
  if (isClaim(r)) return claimHtml(file, b.id, r, `${blockAnchor(b.id)}-claim${claim}`, emit, link, states?.[String(i)]);
  if (r && typeof r === "object" && "text" in r && typeof (r as { text: unknown }).text === "string") {
    const rec = r as { title?: string; text: string };
    return `<details class="book-record"><summary>${escapeHtml(rec.title ?? "recorded")}</summary>${pre("book-trace", rec.text)}</details>`;
  }
  return `<details class="book-record"><summary>recorded</summary>${pre("book-trace", JSON.stringify(r, null, 2))}</details>`;
}

function resultHtml(ch: ChapterResult, b: BlockResult, diags: Diagnostic[], emit?: Emit, link?: LabelLink, states?: BlockStates): string {
  const status = diags.length > 0 ? "failed" : b.status;
  const parts = [
    `<span class="book-badge book-${status}">${BADGE[status]}</span>`,
    `<span class="book-id">${escapeHtml(b.id)}</span>`,
    b.durationMs !== null ? `<span class="book-duration">${Math.round(b.durationMs)} ms</span>` : "",
    `<code class="book-loc">${escapeHtml(ch.file)}:${b.line}</code>`,
    b.flags.fails ? `<span class="book-flag">expected to fail</span>` : "",
    // A skip block is a search the build leaves out (too long for every build): say how to run it.
    status === "skipped" ? `<span class="book-flag">not run by the build; run it by name: <code>npm run -s chapter -- ${escapeHtml(ch.file)} ${escapeHtml(b.id)}</code></span>` : "",
  ].filter(Boolean);
  const body: string[] = [];
  for (const d of diags) body.push(pre("book-failure", formatDiagnostic(d)));
  if (b.failure) {
    const at = b.failure.at ? `\n    at ${b.failure.at.file}:${b.failure.at.line}:${b.failure.at.col}` : "";
    body.push(pre("book-failure", b.failure.message + at));
  }
  let claims = 0;
  b.records.forEach((r, i) => body.push(recordHtml(ch.file, b, r, i, isClaim(r) ? claims++ : -1, emit, link, states)));
  return `<div class="book-result book-${status}" id="${blockAnchor(b.id)}" data-block-id="${escapeHtml(b.id)}" data-status="${status}" data-line="${b.line}">` +
    `<div class="book-head">${parts.join(" ")}</div>${body.join("")}</div>`;
}

/** Diagnostics that belong to no block (or fall outside any) are shown at the top of the page. */
function chapterBanner(ch: ChapterResult, orphans: Diagnostic[]): string {
  if (ch.status === "passed" && orphans.length === 0) return "";
  const lines = ch.diagnostics.map(formatDiagnostic);
  const failedBlocks = ch.blocks.filter((b) => b.status === "failed").map((b) => `${ch.file}:${b.line} block ${b.id} failed`);
  const text = [...lines, ...failedBlocks].join("\n") || "the chapter failed";
  return `<div class="book-chapter-failure" data-status="failed"><strong>This chapter fails.</strong>${pre("book-failure", text)}</div>\n\n`;
}

export function renderChapter(src: string, ex: Extract, ch: ChapterResult, scoreboard = "", emit?: Emit, link?: LabelLink, states?: ChapterStates): string {
  const lines = splitLines(src);
  const byFence = new Map(ch.blocks.map((b) => [b.line, b]));
  const exByFence = new Map(ex.blocks.map((b) => [b.fenceLine, b]));
  const diagsAt = (from: number, to: number) => ch.diagnostics.filter((d) => d.file === ch.file && d.line >= from && d.line <= to);
  const placed = new Set<Diagnostic>();
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    const xb = exByFence.get(n);
    const rb = byFence.get(n);
    if (xb && rb) {
      const diags = diagsAt(xb.fenceLine, xb.endLine);
      diags.forEach((d) => placed.add(d));
      const show = !xb.flags.hidden;
      if (show) {
        // Keep the container prefix (`> `, list indent) and the fence; drop the options.
        const raw = lines[i]!;
        out.push(raw.slice(0, raw.indexOf(xb.info)) + "ts");
        for (let j = xb.fenceLine; j < xb.endLine; j++) out.push(lines[j]!);
        i = xb.endLine - 1;
      } else {
        i = xb.endLine - 1;
      }
      if (show || rb.status === "failed" || diags.length > 0) {
        out.push("", resultHtml(ch, rb, diags, emit, link, states?.[rb.id]), "");
      }
      continue;
    }
    // `<!-- book: … -->` directives are for the tools, not the reader; the scoreboard one becomes its table.
    if (/^\s*<!--\s*book:\s*scoreboard\b.*-->\s*$/.test(lines[i]!)) { out.push("", scoreboard, ""); continue; }
    if (/^\s*<!--\s*book:.*-->\s*$/.test(lines[i]!)) continue;
    out.push(lines[i]!);
  }
  const orphans = ch.diagnostics.filter((d) => !placed.has(d));
  return afterTitle(out.join("\n") + "\n", warningsHtml(ch) + chapterBanner(ch, orphans));
}

/**
 * Insert `html` after the page's `# ` title (or at the top when it has none). mkdocs takes a page's
 * title from a leading H1 only, so a banner placed above it cost a failing chapter its nav title.
 */
export function afterTitle(md: string, html: string): string {
  if (!html) return md;
  const m = /^# [^\n]*\n/.exec(md);
  return m ? `${m[0]}\n${html}${md.slice(m[0].length)}` : html + md;
}

export interface RenderInput { src: string; ex: Extract; result: ChapterResult; directives: Directive[]; states?: ChapterStates }

/**
 * Rewrites `finalDir`: index, one page per chapter, and the site's stylesheet. Rendered afresh
 * beside it, then synced into it, so that an unchanged page keeps its modification time (watch
 * mode's `mkdocs build --dirty` rebuilds only the pages that changed).
 */
export async function renderSite(root: string, finalDir: string, results: Results, chapters: RenderInput[], changes?: Change[]): Promise<void> {
  const outDir = finalDir + ".next";
  await rm(outDir, { recursive: true, force: true });
  await renderInto(root, outDir, results, chapters, changes);
  await syncDir(outDir, finalDir);
  await rm(outDir, { recursive: true, force: true });
}

async function renderInto(root: string, outDir: string, results: Results, chapters: RenderInput[], changes?: Change[]): Promise<void> {
  await mkdir(path.join(outDir, "assets"), { recursive: true });
  for (const asset of ["book.css", "book.js", "search-handshake.js"]) await copyFile(path.join(root, "build/site", asset), path.join(outDir, "assets", asset));
  await writeFile(path.join(outDir, "index.md"), indexPage(results, changes));
  await writeFile(path.join(outDir, "scoreboard.md"), scoreboardPage(results));
  if (changes) await writeFile(path.join(outDir, "changes.md"), changesPage(changes));
  const board = scoreboardTable(chapters);
  // The machine's source and reference pages; trace labels link to the model code (source-pages.ts).
  const sources = indexSources(root);
  const readme = await readFile(path.join(root, "lib/kernel/README.md"), "utf8");
  for (const f of sources.files) {
    await mkdir(path.dirname(path.join(outDir, sourceDoc(f.file))), { recursive: true });
    await writeFile(path.join(outDir, sourceDoc(f.file)), sourcePage(f, readme));
  }
  await mkdir(path.join(outDir, "reference"), { recursive: true });
  await writeFile(path.join(outDir, "reference/index.md"), referencePage(readme, "lib/kernel/README.md"));
  await writeFile(path.join(outDir, "reference/devices.md"), referencePage(await readFile(path.join(root, "lib/kernel/README-devices.md"), "utf8"), "lib/kernel/README-devices.md"));
  await writeFile(path.join(outDir, "reference/functions.md"), functionsPage(sources));
  await writeFile(path.join(outDir, "src/index.md"), ["# The model's source", "", "Every file of `lib/`, each line with an anchor; trace labels link here.", "",
    ...sources.files.map((f) => `- [${f.file}](${sourceDoc(f.file).slice(4)})`), ""].join("\n"));
  const link: LabelLink = (label) => { const d = labelSource(sources, label); return d ? `../${sourcePath(d.file)}#L${d.line}` : null; };
  for (const c of chapters) {
    const mine = changes?.filter((x) => x.file === c.result.file);
    const banner = mine && mine.length > 0 ? changesBanner(mine) : "";
    // Side files (long traces) live in traces/<chapter>/; a chapter page is <chapter>/index.html.
    const slug = path.basename(c.ex.file, ".md");
    const side: [string, string | Uint8Array][] = [];
    const emit: Emit = (name, content) => { side.push([name, content]); return `../traces/${slug}/${name}`; };
    await writeFile(path.join(outDir, path.basename(c.ex.file)), afterTitle(renderChapter(c.src, c.ex, c.result, board, emit, link, c.states), banner));
    if (side.length > 0) {
      await mkdir(path.join(outDir, "traces", slug), { recursive: true });
      for (const [name, content] of side) await writeFile(path.join(outDir, "traces", slug, name), content);
    }
  }
}
