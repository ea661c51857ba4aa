// The generated pages that are not chapters: the index, the scoreboard and "what changed".
// All of them are computed from results.json; none holds a verdict of its own.

import path from "node:path";
import { evidenceBrief } from "./evidence-view.ts";
import { escapeHtml as esc } from "./escape.ts";
import { claimsIn, type Located } from "./claim-view.ts";
import { changeLine, type Change } from "./diff.ts";
import type { Results } from "./results.ts";
import { blockAnchor } from "./anchors.ts";

const cell = (s: string) => s.replace(/\|/g, "\\|");

export const claimsOf = (results: Results): Located[] => claimsIn(results.chapters);

/** Link from a generated page at the docs root to a claim's anchor on its chapter page. */
export function claimLink(l: Located): string {
  return `${path.basename(l.chapter.file)}#${blockAnchor(l.blockId)}-claim${l.index}`;
}

const verdict = (v: string) => `<span class="book-verdict book-verdict-${esc(v)}">${esc(v)}</span>`;

const TIMELINE = [
  ["Tue 20 Mar 2018, 11:54", "Christian König", "19ed21a5-805d-271f-9120-49e0c00f510f@amd.com", "asks for a lock that keeps GUP, submission and the notifier apart; points at amdgpu_mn.c"],
  ["Tue 20 Mar 2018, 15:08", "Daniel Vetter", "20180320140810.GU14155@phenom.ffwll.local", "a CS slow path is feasible; a full lock is not; leaked IOMMU mappings allow stray writes"],
  ["Tue 20 Mar 2018, 18:47", "Christian König", "37ba7394-2a5c-a0bc-cc51-c8a0edc2991d@gmail.com", "fork() and THP are not user space's fault; dirty from the notifier; notifier locks only with GFP_NOIO"],
  ["Wed 21 Mar 2018, 09:18", "Daniel Vetter", "20180321081800.GW14155@phenom.ffwll.local", "the reply under test: the flush, the set_page_dirty, the recursion-aware shrinker"],
  ["Wed 21 Mar 2018, 10:34", "Christian König", "c9070eb2-9b4e-9ac2-ecbc-74dcf5069858@gmail.com", "i915 needs an end callback; a reference keeps pages, but CPU and GPU may see different ones"],
  ["Thu 22 Mar 2018, 08:14", "Daniel Vetter", "20180322071425.GG14155@phenom.ffwll.local", "GUP serialises with invalidation, he believes; cross-release lockdep saw nothing"],
] as const;

export function indexPage(results: Results, changes?: Change[]): string {
  const t = results.totals;
  const claims = claimsOf(results);
  const rows = results.chapters.map((c) => {
    const mine = claims.filter((l) => l.chapter === c);
    // Markdown links, not <a>: mkdocs rewrites `page.md#anchor` into the page's URL only in those.
    const answer = mine.length === 0 ? "no claims yet" : mine.map((l) => `[${esc(l.c.id ?? l.c.title)}](${claimLink(l)}) ${verdict(l.c.observed)}`).join(", ");
    return `| ${c.status === "passed" ? "✓" : "✗"} | [${cell(c.title)}](${path.basename(c.file)}) | ${c.passed} | ${c.failed} | ${cell(answer)} |`;
  });
  return [
    "# userptr, 2018: an executable RFC",
    "",
    "Christian König and Daniel Vetter argued in March 2018 about how a GPU driver must handle user memory it",
    "reaches through `get_user_pages()` and MMU notifiers. Each chapter takes one of their arguments, writes the",
    "designs under debate as code, and decides its claims by exploring every interleaving of a simulated kernel.",
    "",
    `**${t.passed} passed, ${t.failed} failed**${t.skipped ? `, ${t.skipped} skipped` : ""} across ${results.chapters.length} chapters` +
      (changes ? ` · [${changes.length} claim${changes.length === 1 ? "" : "s"} changed](changes.md)` : "") + " · [scoreboard](scoreboard.md)",
    "",
    "## The chapters",
    "",
    "| | Chapter | Passed | Failed | Claims and verdicts |",
    "|---|---|---|---|---|",
    ...rows,
    "",
    "## The thread",
    "",
    "| When (+0100) | Who | What, in short |",
    "|---|---|---|",
    ...TIMELINE.map(([when, who, id, what]) => `| [${when}](https://lore.kernel.org/all/${id}/) | ${who} | ${what} |`),
    "",
    "**The cast.** Christian König (AMD) maintained amdgpu's userptr code with Felix Kuehling; Daniel Vetter (Intel)",
    "co-maintained DRM and i915. Jérôme Glisse's HMM and Jason Gunthorpe's later `mmu_interval_notifier` are where",
    "the argument ended up.",
    "",
  ].join("\n");
}

/**
 * The matrix design × invariant × era, as one row per invariant and one column per era (a matrix
 * with a column per invariant and era is dozens of columns wide): each cell lists the designs with
 * a claim about that invariant in that era, and each verdict links to its claim. The list of every
 * claim follows, labelled or not.
 */
/** The preemption bound of a Never/Always decided by a bounded search, or null for a proof or a Sometimes. */
function boundOf(c: { observed: string; coverage: { kind: string; preemptions?: number } }): number | null {
  return c.coverage.kind === "bounded" && (c.observed === "Never" || c.observed === "Always") ? c.coverage.preemptions ?? null : null;
}

export function scoreboardPage(results: Results): string {
  const claims = claimsOf(results);
  const lines = ["# Scoreboard", "", "Every claim of the book as the last build decided it. Each verdict links to the block that decided it.", ""];
  const labelled = claims.filter((l) => l.c.labels?.design && l.c.labels?.invariant && l.c.labels?.era);
  if (labelled.length > 0) {
    const invariants = [...new Set(labelled.map((l) => l.c.labels!.invariant!))].sort();
    const eras = [...new Set(labelled.map((l) => l.c.labels!.era!))].sort();
    const nBounded = labelled.filter((l) => boundOf(l.c) !== null).length;
    lines.push("## Design × invariant × era", "", "One row per invariant; in each era, every design with a claim about it.", "");
    if (nBounded > 0) lines.push(`A dashed verdict such as <span class="book-verdict book-verdict-Never book-bounded">Never ≤ 2</span> was decided within that many preemptions only: evidence, not a proof (${nBounded} of ${labelled.length} claims here).`, "");
    lines.push(`| Invariant | ${eras.map(esc).join(" | ")} |`);
    lines.push(`|---|${eras.map(() => "---").join("|")}|`);
    for (const inv of invariants) {
      const cells = eras.map((era) => labelled
        .filter((l) => l.c.labels!.invariant === inv && l.c.labels!.era === era)
        .map((l) => {
          const k = boundOf(l.c);
          return `<span class="book-design">${esc(l.c.labels!.design!)}</span> [${esc(l.c.observed)}${k === null ? "" : ` ≤ ${k}`}](${claimLink(l)}){ .book-score .book-verdict .book-verdict-${esc(l.c.observed)}${k === null ? "" : " .book-bounded"} }${l.c.pass ? "" : " ✗"}`;
        })
        .join("<br>") || "—");
      lines.push(`| ${esc(inv)} | ${cells.join(" | ")} |`);
    }
    lines.push("");
  }
  lines.push("## Every claim", "", "| Chapter | Claim | Expected | Observed | Coverage | Evidence |", "|---|---|---|---|---|---|");
  for (const l of claims) {
    const cov = l.c.coverage.kind === "bounded" ? `bounded ≤ ${l.c.coverage.preemptions}` : l.c.coverage.kind === "exhaustive" ? `exhaustive` : l.c.coverage.kind;
    lines.push(`| [${cell(l.chapter.title)}](${path.basename(l.chapter.file)}) | [${esc(l.c.id ?? "claim")}](${claimLink(l)}){ .book-score } ${cell(esc(l.c.title))} | ${verdict(l.c.expected)} | ${verdict(l.c.observed)} ${l.c.pass ? "" : "✗"} | ${cov} | ${l.c.evidence ? evidenceBrief(l.c.evidence) : "—"} |`);
  }
  if (claims.length === 0) lines.push("", "No claims yet.");
  return lines.join("\n") + "\n";
}

export function changesPage(changes: Change[]): string {
  const lines = ["# What changed", "", "Claims whose verdict, coverage or witness differ from the base build (`npm run diff`).", ""];
  if (changes.length === 0) return lines.concat(["No claim changed."]).join("\n") + "\n";
  lines.push("| | Chapter | Claim | What | Before | After |", "|---|---|---|---|---|---|");
  for (const c of changes) {
    const v = (s: Change["before"]) => (s ? verdict(s.observed) : "—");
    lines.push(`| ${c.unexpected ? "✗ unexpected" : "✓"} | [${cell(path.basename(c.file))}](${path.basename(c.file)}) | ${esc(c.claim)} ${cell(esc(c.title))} | ${c.what.join(", ")} | ${v(c.before)} | ${v(c.after)} |`);
  }
  return lines.join("\n") + "\n";
}

export function changesBanner(changes: Change[]): string {
  const items = changes.map((c) => `<li data-change="${esc(c.claim)}">${esc(changeLine(c).replace(/^UNEXPECTED /, ""))}</li>`).join("");
  return `<div class="book-changes"><strong>This change affects ${changes.length} claim${changes.length === 1 ? "" : "s"} of this chapter</strong> (<a href="../changes/">all changes</a>):<ul>${items}</ul></div>\n\n`;
}
