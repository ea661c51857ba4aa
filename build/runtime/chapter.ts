// What a tangled chapter imports as `__book` (see build/src/tangle.ts). It runs inside the
// chapter's SES Compartment (build/src/sandbox/worker.ts), beside the chapter and lib/.
//
// The only way out is `__bookHost`, a hardened object the worker passes to this module alone:
// it takes block registrations and JSON strings, and gives back the replay token and the
// heartbeat. A `test` block becomes one registered block named by its id; whatever a claim
// records while the block runs goes to the worker as JSON at once.

import { resetAmbient } from "../../lib/explorer/ambient.ts";
import { DEFAULT_MAX_STEPS, normaliseSearch, recordStates, setClaimGate, setClaimSink, setHeartbeat, setReplayToken, type ClaimResult, type ClaimSpec, type Heartbeat } from "../../lib/explorer/index.ts";

export interface BlockRun {
  line: number;
  skip: boolean;
  fails: boolean;
}

/** What running one block gives back to the worker: what it threw, if anything. */
export interface BlockOutcome {
  threw: boolean;
  error: unknown;
}

interface Host {
  register(id: string, run: BlockRun, body: () => Promise<BlockOutcome>): void;
  /** A record of the running block, as JSON (the worker adds the claim's wall time: no clock here). */
  record(json: string): void;
  /** `BOOK_REPLAY=<token>`: re-run one execution instead of searching, and print its trace. */
  readonly replayToken: string | null;
  log(text: string): void;
  readonly heartbeat: Heartbeat;
  /** The machine's state at every step of the last recorded claim's witness, as JSON (state.ts). */
  states(json: string): void;
}

/** Given to this module alone by the worker's linker, as a parameter: chapters cannot reach it. */
declare const __bookHost: Host;
const host = __bookHost;

// lib/ is shared by the chapter's units: first undo whatever the previous unit left in its ambient
// slots (lib/explorer/ambient.ts), and guard this unit's own global.
resetAmbient(globalThis);
setReplayToken(host.replayToken);
setHeartbeat(host.heartbeat);
setClaimSink((r: ClaimResult, spec: ClaimSpec<any>) => {
  // Recorded first: the worker stops the claim's clock here, so the replay below is not counted.
  host.record(JSON.stringify({ type: "claim", ...r }));
  if (host.replayToken) { host.log(r.message); return; }
  if (!r.witness) return;
  // The witness's states for the page's state panel (only models with a view() have any). A
  // view that throws costs the panel, never the claim.
  try {
    const s = recordStates(spec.model, r.witness.token, { maxSteps: normaliseSearch(spec.search).maxSteps ?? DEFAULT_MAX_STEPS });
    if (s) host.states(JSON.stringify(s));
  } catch {
    // no panel
  }
});

// A claim about an era says something about real kernels, so it says which ones and why: refused
// before its search, at the chapter line that called claim() (the block's failure points there).
setClaimGate((spec) => {
  const era = spec.labels?.era;
  if (era !== undefined && spec.evidence === undefined) {
    throw new Error(`claim ${spec.id ?? `"${spec.title}"`} speaks of era "${era}" but has no evidence: add evidence: { kernels: [the versions its verdict holds for], commits: [{ id, title }] that make it so }, or analysis: [the files read] when no commit decides it (lib/explorer/evidence.ts)`);
  }
});

/** Adds a JSON-serialisable record (a trace, a note) to the block that is running. */
export function record(value: unknown): void {
  if (value !== null && typeof value === "object" && (value as { type?: unknown }).type === "claim") {
    throw new Error(`record() cannot add a claim result: call claim() or check(), whose verdict comes from the explorer`);
  }
  host.record(JSON.stringify(value));
}

export function test(id: string, run: BlockRun, body: () => Promise<void>): void {
  host.register(id, run, async () => {
    try {
      await body();
      return { threw: false, error: undefined };
    } catch (e) {
      return { threw: true, error: e };
    }
  });
}
