// What a tangled chapter imports as `__book` (see build/src/tangle.ts). It runs inside vitest.
//
// A `test` block becomes one vitest test named by its block id. Whatever a claim records while
// the block runs goes into the test's meta, which the build's reporter writes to results.json.

import { test as vitest, type TestContext } from "vitest";
import { setClaimSink, setReplayToken, type ClaimResult } from "../../lib/explorer/index.ts";

export interface BlockRun {
  line: number;
  skip: boolean;
  fails: boolean;
}

/** What a block recorded: claim results and free-form notes. JSON only: it crosses threads. */
export interface BlockMeta {
  blockId: string;
  line: number;
  records: unknown[];
}

let current: BlockMeta | undefined;

// Every claim a block decides is recorded with the block: verdict, coverage, stats, witness.
// `BOOK_REPLAY=<token>` (the page's replay command) re-runs one execution instead of searching,
// and prints its trace.
const replaying = typeof process !== "undefined" ? process.env.BOOK_REPLAY ?? null : null;
setReplayToken(replaying);
setClaimSink((r: ClaimResult) => {
  record({ type: "claim", ...r });
  if (replaying) console.log(r.message);
});

/** Adds a JSON-serialisable record (a claim result, a trace) to the block that is running. */
export function record(value: unknown): void {
  current?.records.push(JSON.parse(JSON.stringify(value)));
}

export function test(id: string, run: BlockRun, body: () => Promise<void>): void {
  const reg = run.skip ? vitest.skip : run.fails ? vitest.fails : vitest;
  reg(id, async (ctx: TestContext) => {
    const meta: BlockMeta = { blockId: id, line: run.line, records: [] };
    (ctx.task.meta as { book?: BlockMeta }).book = meta;
    current = meta;
    try {
      await body();
    } finally {
      current = undefined;
    }
  });
}
