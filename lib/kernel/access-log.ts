// Debug measurement only (issue 13; on with DPOR_RACE_LOG=1 in an unconfined run): which fields of
// hardware-visible memory each step really touches, so the race log (lib/explorer/race-log.ts)
// can tell a race on the one `memory` object that is a conflict on one field of one frame, PTE,
// GPU PTE or oracle record (no split of memory could remove it) from false sharing (a split
// could). When on, the per-frame arrays of PhysMem, the per-page arrays of Mm, GPU page tables
// and TLBs and the oracles' bookkeeping are wrapped in recording proxies (slow); when off nothing
// is wrapped and the only cost is one test per kernel object created.
//
// Not recorded (so a race reported as "no field in common" may still conflict there): IOMMU
// state, page cache and swap, Mm's PMD maps and flags, sg tables, file state.

import { raceLog, type Accesses } from "../explorer/race-log.ts";
import type { FieldLog } from "./field-log.ts";

/** key -> 1 read, 2 write (the stronger). null: no step is running (setup, final, thread code). */
let cur: Map<string, number> | null = null;

function rec(key: string, w: number): void {
  if (cur === null) return;
  const o = cur.get(key) ?? 0;
  if (w > o) cur.set(key, w);
}

/** Does `a` name the same field as `b`, where "x[*]" (a whole map or list) covers every "x[...]"? */
function same(a: string, b: string): boolean {
  if (a === b) return true;
  const star = (x: string, y: string) => x.endsWith("[*]") && y.startsWith(x.slice(0, -2));
  return star(a, b) || star(b, a);
}

/** The field class for the summary: frame and page numbers dropped ("F3.ref" -> "frame.ref"). */
const fieldClass = (k: string): string =>
  k.replace(/^F\d+\./, "frame.").replace(/^P[^:]*:\d+\./, "pte.").replace(/\[[^\]]*\]$/, "[]");

if (raceLog)
  raceLog.recorder = {
    objectName: "memory",
    begin() {
      cur = new Map();
    },
    end(): Accesses {
      const a = cur ?? new Map<string, number>();
      cur = null;
      return a;
    },
    conflict(a: Accesses, b: Accesses): string | null {
      for (const [ka, ma] of a)
        for (const [kb, mb] of b) if ((ma === 2 || mb === 2) && same(ka, kb)) return fieldClass(ka.endsWith("[*]") ? kb : ka);
      return null;
    },
  };

/** Is field-level recording on for the race log? (wrap the arrays only then, or for field-log.ts) */
export const accessLogOn = (): boolean => raceLog !== null;

/** Where a wrapper also reports fields for field footprints (field-log.ts): the kernel's log and
 *  the number of each field. */
export interface FieldSink<K> {
  readonly log: FieldLog;
  /** The field number of element/key k; null: not representable (the step falls back). */
  no(k: K): number | null;
}

const isIndex = (p: string | symbol): p is string => typeof p === "string" && p.length > 0 && p.charCodeAt(0) >= 48 && p.charCodeAt(0) <= 57;

function sinkRec<K>(fs: FieldSink<K> | undefined, k: K, w: number): void {
  if (fs === undefined || !fs.log.recording) return;
  const n = fs.no(k);
  if (n === null) fs.log.trip();
  else fs.log.rec(n, w);
}

/** Wrap a typed array: element i is field key(i); fill/set/copyWithin write every element, other
 *  methods read them, and subarray (a view the wrapper would not see) trips the field log. */
export function recordArray<T extends Int32Array | Uint8Array>(arr: T, key: (i: number) => string, fs?: FieldSink<number>): T {
  const writers = new Set(["fill", "set", "copyWithin"]);
  return new Proxy(arr, {
    get(t, p) {
      if (isIndex(p)) {
        // Race-log keys are strings: built only while the race log records a step.
        if (cur !== null) rec(key(+p), 1);
        sinkRec(fs, +p, 1);
        return (t as unknown as Record<string, unknown>)[p];
      }
      const v = Reflect.get(t, p, t);
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        const w = typeof p === "string" && writers.has(p) ? 2 : 1;
        for (let i = 0; i < t.length; i++) {
          if (cur !== null) rec(key(i), w);
          sinkRec(fs, i, w);
        }
        if (String(p) === "subarray" && fs) fs.log.trip();
        return (v as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
    set(t, p, v) {
      if (isIndex(p)) {
        if (cur !== null) rec(key(+p), 2);
        sinkRec(fs, +p, 2);
      } else if (fs) fs.log.trip();
      return Reflect.set(t, p, v, t);
    },
  });
}

/** Record reads and writes of a scalar field of `obj` as `key` (and as field `no`). */
export function recordField(obj: object, field: string, key: string, fs?: FieldSink<void>): void {
  let val = (obj as Record<string, unknown>)[field];
  Object.defineProperty(obj, field, {
    get() {
      rec(key, 1);
      sinkRec(fs, undefined, 1);
      return val;
    },
    set(v) {
      rec(key, 2);
      sinkRec(fs, undefined, 2);
      val = v;
    },
  });
}

/**
 * Wrap a Map: get/has read one key, set/delete write it; iteration and size read all ("name[*]").
 * As fields (fs): key k is field no(k) and the key set is field no(ALL) (`all`). get/has read k;
 * set of a present key writes k; set of a new key and delete of a present one write k and the key
 * set; size reads the key set; iteration reads the key set and every present key; clear writes
 * them all (of an empty map: reads the key set). Values must not be mutated in place (they are not wrapped).
 */
export function recordMap<K, V>(m: Map<K, V>, name: string, fs?: FieldSink<K> & { readonly all: number }): Map<K, V> {
  const readAll = (t: Map<K, V>, w: number) => {
    if (fs === undefined || !fs.log.recording) return;
    fs.log.rec(fs.all, w);
    for (const k of t.keys()) sinkRec(fs, k, w);
  };
  return new Proxy(m, {
    get(t, p) {
      const v = Reflect.get(t, p, t);
      if (p === "size") {
        if (cur !== null) rec(`${name}[*]`, 1);
        if (fs?.log.recording) fs.log.rec(fs.all, 1);
      }
      if (typeof v !== "function") return v;
      return (...args: unknown[]) => {
        const k = args[0] as K;
        if (p === "get" || p === "has") {
          if (cur !== null) rec(`${name}[${String(k)}]`, 1);
          sinkRec(fs, k, 1);
        } else if (p === "set" || p === "delete") {
          if (cur !== null) rec(`${name}[${String(k)}]`, 2);
          const present = t.has(k);
          // A new key or a removed one changes the key set; a delete of an absent key changes nothing.
          if (p === "delete" && !present) sinkRec(fs, k, 1);
          else sinkRec(fs, k, 2);
          if ((p === "set") !== present && fs?.log.recording) fs.log.rec(fs.all, 2);
        } else {
          // Clearing an empty map changes nothing: it only reads that the key set is empty (two
          // flushes of an empty GPU TLB are independent).
          const w = p === "clear" && t.size > 0 ? 2 : 1;
          if (cur !== null) rec(`${name}[*]`, w);
          readAll(t, w);
        }
        return (v as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
}

/** Wrap an array as one field: any read reads it, any write (push, splice, index set...) writes it. */
export function recordList<T>(arr: T[], name: string, fs?: FieldSink<void>): T[] {
  const writers = new Set(["push", "pop", "splice", "shift", "unshift", "sort", "reverse", "fill", "copyWithin"]);
  return new Proxy(arr, {
    get(t, p) {
      const v = Reflect.get(t, p, t);
      if (typeof v === "function")
        return (...args: unknown[]) => {
          const w = typeof p === "string" && writers.has(p) ? 2 : 1;
          rec(name, w);
          sinkRec(fs, undefined, w);
          return (v as (...a: unknown[]) => unknown).apply(t, args);
        };
      rec(name, 1);
      sinkRec(fs, undefined, 1);
      return v;
    },
    set(t, p, v) {
      rec(name, 2);
      sinkRec(fs, undefined, 2);
      return Reflect.set(t, p, v, t);
    },
  });
}

/** Field footprints: any read or write of `obj[field]` while a split step is recorded trips the
 *  log (the step falls back to all of memory): state no wrapper records field by field. */
export function tripField(obj: object, field: string, log: FieldLog): void {
  let val = (obj as Record<string, unknown>)[field];
  Object.defineProperty(obj, field, {
    get() {
      log.trip();
      return val;
    },
    set(v) {
      log.trip();
      val = v;
    },
  });
}
