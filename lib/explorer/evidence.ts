// What a claim's verdict rests on, outside the model: the versions of the system under test for
// which the verdict holds, and the commits that make it so, or, when no commit decides it, the
// files read ("analysis"). The explorer does not interpret it: it checks the record's shape, so a
// typo fails at the claim instead of reaching a page, and carries it into the result.

import { ExplorerError } from "./errors.ts";

export interface EvidenceCommit {
  /** The first 12 hex digits of the commit id, lower case: "aa56a292ce62". */
  readonly id: string;
  /** Its subject line, as the commit has it. */
  readonly title: string;
}

export interface Evidence {
  /** The versions the verdict holds for, oldest first: ["v4.16"], ["v6.6", "v6.18"]. */
  readonly kernels: readonly string[];
  /** The commits that make the verdict so. */
  readonly commits?: readonly EvidenceCommit[];
  /** No commit decides it: the files whose reading does, e.g. ["mm/gup.c"]. */
  readonly analysis?: readonly string[];
}

const VERSION = /^v\d+\.\d+$/;
const COMMIT = /^[0-9a-f]{12}$/;
const FILE = /^[A-Za-z0-9_.\-/]+$/;

/** Throws an ExplorerError saying what is wrong with `ev` and how to write it. */
export function validateEvidence(ev: unknown, who: string): asserts ev is Evidence {
  const bad = (what: string): never => {
    throw new ExplorerError(`${who}: evidence ${what}. Write evidence: { kernels: ["v4.16"], commits: [{ id: "aa56a292ce62", title: "…" }] }, or analysis: ["mm/gup.c"] in place of commits when no commit decides the verdict.`);
  };
  if (!ev || typeof ev !== "object" || Array.isArray(ev)) bad("must be an object");
  const e = ev as Record<string, unknown>;
  for (const k of Object.keys(e)) if (k !== "kernels" && k !== "commits" && k !== "analysis") bad(`has an unknown field "${k}"`);
  if (!Array.isArray(e.kernels) || e.kernels.length === 0) bad("needs kernels, a non-empty list of versions");
  for (const v of e.kernels as unknown[]) if (typeof v !== "string" || !VERSION.test(v)) bad(`kernel ${JSON.stringify(v)} is not a version like "v4.16" or "v6.18"`);
  if (new Set(e.kernels as string[]).size !== (e.kernels as string[]).length) bad("lists a kernel twice");
  if (e.commits !== undefined) {
    if (!Array.isArray(e.commits)) bad("commits must be a list");
    for (const c of e.commits as unknown[]) {
      const { id, title } = (c ?? {}) as { id?: unknown; title?: unknown };
      if (typeof id !== "string" || !COMMIT.test(id)) bad(`commit id ${JSON.stringify(id)} is not 12 lower-case hex digits`);
      if (typeof title !== "string" || title.trim() === "") bad(`commit ${String(id)} needs its title`);
    }
  }
  if (e.analysis !== undefined) {
    if (!Array.isArray(e.analysis)) bad("analysis must be a list of files");
    for (const f of e.analysis as unknown[]) if (typeof f !== "string" || !FILE.test(f)) bad(`analysis file ${JSON.stringify(f)} is not a path like "mm/gup.c"`);
  }
  const commits = (e.commits as unknown[] | undefined)?.length ?? 0;
  const files = (e.analysis as unknown[] | undefined)?.length ?? 0;
  if (commits + files === 0) bad("names neither a commit nor a file read (analysis)");
}
