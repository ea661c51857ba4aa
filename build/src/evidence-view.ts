// A claim's evidence (lib/explorer/evidence.ts) as a reader sees it: the kernels its verdict
// holds for, then the commits that make it so, linked to the stable tree (which holds mainline
// and the stable-only fixes alike), or the files whose reading decides it.

import type { Evidence } from "../../lib/explorer/index.ts";
import { escapeHtml as esc } from "./escape.ts";

export const commitUrl = (id: string) => `https://git.kernel.org/pub/scm/linux/kernel/git/stable/linux.git/commit/?id=${id}`;

const commitLink = (c: { id: string; title: string }, withTitle: boolean) =>
  `<a class="book-commit" href="${esc(commitUrl(c.id))}" title="${esc(c.title)}"><code>${esc(c.id)}</code></a>${withTitle ? ` (“${esc(c.title)}”)` : ""}`;

/** "v4.16" < "v4.19" < "v5.5" < "v6.18": by number, not by text. */
export function compareVersions(a: string, b: string): number {
  const n = (v: string) => v.slice(1).split(".").map(Number);
  const [x, y] = [n(a), n(b)];
  return x[0]! - y[0]! || x[1]! - y[1]!;
}

/** The union of the kernels of these evidences, in version order. */
export function kernelsOf(evs: readonly (Evidence | undefined)[]): string[] {
  return [...new Set(evs.flatMap((e) => e?.kernels ?? []))].sort(compareVersions);
}

/** Beside a verdict on a chapter's page: kernels, commits with their titles, files read. */
export function evidenceHtml(ev: Evidence | undefined): string {
  if (!ev) return "";
  const parts = [`<span class="book-evidence-kernels">${ev.kernels.map(esc).join(", ")}</span>`];
  if (ev.commits?.length) parts.push(`${ev.commits.length === 1 ? "commit" : "commits"} ${ev.commits.map((c) => commitLink(c, true)).join(", ")}`);
  if (ev.analysis?.length) parts.push(`analysis of ${ev.analysis.map((f) => `<code>${esc(f)}</code>`).join(", ")}`);
  return `<div class="book-evidence"><span class="book-evidence-label">Evidence:</span> ${parts.join(" · ")}</div>`;
}

/** In a table cell: kernels and commit ids (their titles on hover), or "analysis". */
export function evidenceBrief(ev: Evidence | undefined): string {
  if (!ev) return `<span class="book-evidence-brief book-evidence-none">no evidence</span>`;
  const why = [...(ev.commits ?? []).map((c) => commitLink(c, false)), ...(ev.analysis?.length ? [`<span title="${esc(ev.analysis.join(", "))}">analysis</span>`] : [])];
  return `<span class="book-evidence-brief">${ev.kernels.map(esc).join(", ")} · ${why.join(", ")}</span>`;
}
