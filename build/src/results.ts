// The results.json schema, version 1. Documented for readers in build/README.md; bump
// RESULTS_SCHEMA on any change that a reader of an older file would misread.

import type { Diagnostic } from "./diagnostic.ts";

/** @2: a long witness is cut (bound.ts): `witness.cut` says what its trace left out. */
export const RESULTS_SCHEMA = "userptr-rfc/results@2";

export type BlockStatus =
  /** A test block that ran and passed (for `fails` blocks: that threw, as expected). */
  | "passed"
  | "failed"
  | "skipped"
  /** A definition block that was evaluated when its chapter loaded, without throwing. */
  | "evaluated"
  /** Not run, because its chapter failed earlier (extract, import, type-check, or load). */
  | "not-run";

export interface Location { file: string; line: number; col: number }

export interface BlockResult {
  id: string;
  /** Markdown lines of the opening and closing fences. */
  line: number;
  endLine: number;
  kind: "definition" | "test";
  flags: { skip: boolean; fails: boolean; hidden: boolean };
  status: BlockStatus;
  durationMs: number | null;
  /** For a failed block: the message and where it was thrown, mapped to a Markdown line. */
  failure: { message: string; at: Location | null } | null;
  /** What the block recorded through `__book.record` / claim(): claim results and traces. */
  records: unknown[];
}

export interface ChapterResult {
  file: string;
  title: string;
  status: "passed" | "failed";
  /** sha256 of the chapter and everything it imports: the watch/build cache key. */
  hash: string;
  /** True when this entry was reused from the cache instead of re-run. */
  cached: boolean;
  durationMs: number;
  diagnostics: Diagnostic[];
  /** What does not fail the chapter but should be read (it checks nothing); present only if any. */
  warnings?: Diagnostic[];
  blocks: BlockResult[];
  /** Counts over test blocks, plus one failure per chapter-level diagnostic. */
  passed: number;
  failed: number;
  skipped: number;
}

export interface Results {
  schema: typeof RESULTS_SCHEMA;
  chapters: ChapterResult[];
  totals: { passed: number; failed: number; skipped: number };
  /** Wall time of each stage of the run that wrote this file, in ms. */
  timings: Record<string, number>;
}
