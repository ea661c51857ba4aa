// What a tangled chapter imports as `__book` (see build/src/tangle.ts). It runs inside vitest.
//
// A `test` block becomes one vitest test named by its block id. Whatever a claim records while
// the block runs goes into the test's meta, which the build's reporter writes to results.json.

import { test as vitest, type TestContext } from "vitest";
import { setClaimSink } from "../../lib/explorer/index.ts";

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
setClaimSink((r) => record({ type: "claim", ...r }));

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
