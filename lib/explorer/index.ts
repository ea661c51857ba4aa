// Public surface of the concurrency explorer (what chapters import). Node-free.
// Worker-thread parallelism lives in parallel.ts and TTY progress in node.ts,
// which this file deliberately does not import.

export { model, type Model, type ModelInstance } from "./model.ts";
export { SharedVar } from "./shared-var.ts";
export { Mutex } from "./mutex.ts";
export { RwSem } from "./rwsem.ts";
export { Completion } from "./completion.ts";
export { WaitQueue } from "./wait-queue.ts";
export { Semaphore } from "./semaphore.ts";
export { checkFootprint } from "./footprint.ts";
export { Obj, step, choose, finding, call, spawn, note, currentThread, locksHeld, noteAcquired, noteReleased, type AccessOptions } from "./obj.ts";
export type { Op, Mode, Touch, Tracked, Yieldable, ThreadBody, ChooseRequest, FieldRecorder } from "./effect.ts";
export type { Finding, DeadlockData, WaitEdge } from "./finding.ts";
export type { ExecutionView } from "./view.ts";
export { subscribed } from "./subscriptions.ts";
export {
  claim, check, search, decide, mergeRecords, setClaimSink, setClaimGate, describeCoverage, ClaimError, type ClaimSink,
  type ClaimSpec, type ClaimResult, type Expectation, type Observation, type Witness, type Stats, type SearchRecord,
} from "./claim.ts";
export { searchAll } from "./claim.ts";
export { checkAll, claimAll, together, ClaimGroup } from "./group.ts";
export type { Coverage } from "./search.ts";
export { validateEvidence, type Evidence, type EvidenceCommit } from "./evidence.ts";
export { replay, type ReplayResult } from "./replay.ts";
export { setReplayToken } from "./replay-claim.ts";
export { formatTrace, formatDeadlock, type TraceEvent } from "./trace.ts";
export { setProgress, setHeartbeat, type Progress, type ProgressFn, type Heartbeat } from "./progress.ts";
export { ExplorerError, DeterminismError, ModelError } from "./errors.ts";
export * from "./config.ts";
export { stateView, recordStates, encodeStates, decodeStates, diffStates, applyChanges, type StateView, type StateChange, type EncodedStates } from "./state.ts";
