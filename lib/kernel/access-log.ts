// Debug measurement only (issue 13; on with DPOR_RACE_LOG=1 in an unconfined run): which fields of
// hardware-visible memory each step really touches, so the race log (lib/explorer/race-log.ts)
// can tell a race on the one `memory` object that is a conflict on one field of one frame, PTE,
// GPU PTE or oracle record (no split of memory could remove it) from false sharing (a split
// could). When on, the per-frame arrays of PhysMem, the per-page arrays of Mm, GPU page tables
// and TLBs and the oracles' bookkeeping are wrapped in recording proxies (slow); when off nothing
// is wrapped and the only cost is one test per kernel object created.
//
// Not recorded (so a race reported as "no field in common" may still conflict there): IOMMU
// state, page cache, Mm's PMD maps and flags, sg tables, file state. (Swap is: swap.ts.)

import { raceLog, type Accesses } from "../explorer/race-log.ts";
import type { FieldLog } from "./field-log.ts";

/** key -> 1 read, 2 write (the stronger). null: no step is running (setup, final, thread code). */
let cur: Map<string, number> | null = null;

function rec(key: string, w: number): void {
  if (cur === null) return;
  const o = cur.get(key) ?? 0;
  if (w > o) cur.set(key, w);
}

/** An access a wrapper cannot see (PhysMem.orContents writes past its wrapper), for the race log:
 *  1 read, 2 write. Nothing unless the race log is recording a step. */
export function noteAccess(key: string, w: number): void {
  rec(key, w);
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

/** The methods of a list that write it (recordList). */
const LIST_WRITERS: readonly (string | symbol)[] = Object.freeze(["push", "pop", "splice", "shift", "unshift", "sort", "reverse", "fill", "copyWithin"]);

/** Is field-level recording on for the race log? (wrap the arrays only then, or for field-log.ts) */
export const accessLogOn = (): boolean => raceLog !== null;

/** Where a wrapper also reports fields for field footprints (field-log.ts): the kernel's log and
 *  the number of each field. */
export interface FieldSink<K> {
  readonly log: FieldLog;
  /** The field number of element/key k; null: not representable (the step falls back). */
  no(k: K): number | null;
}

/** A typed array's fields, for the wrapper's fast path: for an integer 0 <= i < limit, element i is
 *  field base + floor(i / per) * 64 + i % per (per 0: field base whatever i is), which MUST equal
 *  no(i) there; every other index goes through no(), the checked path. limit 0: always no(). */
export interface ArraySink extends FieldSink<number> {
  readonly base: number;
  readonly per: number;
  readonly limit: number;
}

/** Does property key p name an array index? (The engine hands a proxy numeric keys as canonical strings.) */
function indexKey(p: string | symbol): boolean {
  if (typeof p !== "string") return false;
  const c = p.charCodeAt(0);
  return c >= 48 && c <= 57;
}

/** Wrap a typed array: element i is field key(i); fill/set/copyWithin write every element, other
 *  methods read them, and subarray (a view the wrapper would not see) trips the field log. The
 *  index is converted from the trap's string key once, the array is indexed with the number, the
 *  field number comes from fs's fast path (ArraySink) without a call, and a method's wrapper is
 *  made once per wrapped array and name (not per call). Outside a recorded step (and with the race
 *  log off) an index access costs the trap, one conversion and two tests. */
export function recordArray<T extends Int32Array | Uint8Array>(arr: T, key: (i: number) => string, fs?: ArraySink): T {
  const log = fs === undefined ? null : fs.log;
  const base = fs === undefined ? 0 : fs.base, per = fs === undefined ? 1 : fs.per, limit = fs === undefined ? 0 : fs.limit;
  const field = (i: number, w: number): void => {
    if (i >= 0 && i < limit && (i | 0) === i) (log as FieldLog).rec(per === 1 ? base + i * 64 : per === 0 ? base : base + Math.floor(i / per) * 64 + (i % per), w);
    else {
      const n = (fs as ArraySink).no(i);
      if (n === null) (log as FieldLog).trip();
      else (log as FieldLog).rec(n, w);
    }
  };
  let methods: Map<string | symbol, (...a: unknown[]) => unknown> | null = null;
  const method = (t: T, p: string | symbol, v: (...a: unknown[]) => unknown) => {
    const w = p === "fill" || p === "set" || p === "copyWithin" ? 2 : 1;
    return (...args: unknown[]) => {
      for (let i = 0; i < t.length; i++) {
        if (cur !== null) rec(key(i), w);
        if (log !== null && log.on) field(i, w);
      }
      if (p === "subarray" && log !== null) log.trip();
      return v.apply(t, args);
    };
  };
  return new Proxy(arr, {
    get(t, p) {
      if (indexKey(p)) {
        const i = +(p as string);
        // Race-log keys are strings: built only while the race log records a step.
        if (cur !== null) rec(key(i), 1);
        if (log !== null && log.on) field(i, 1);
        return t[i];
      }
      const v = Reflect.get(t, p, t);
      if (typeof v !== "function") return v;
      methods ??= new Map();
      let m = methods.get(p);
      if (m === undefined) methods.set(p, (m = method(t, p, v as (...a: unknown[]) => unknown)));
      return m;
    },
    set(t, p, v) {
      if (indexKey(p)) {
        const i = +(p as string);
        if (cur !== null) rec(key(i), 2);
        if (log !== null && log.on) field(i, 2);
        t[i] = v as number;
        return true;
      }
      if (log !== null) log.trip();
      return Reflect.set(t, p, v, t);
    },
  });
}

/** fs's field number for a scalar or a whole list: no() is a constant (it names one field), so it
 *  is asked once, at the first recorded access (where the old wrappers asked every time). */
function constantField(fs: FieldSink<void>): () => number | null {
  let n: number | null | undefined;
  return () => (n === undefined ? (n = fs.no(undefined)) : n);
}

/** One recorded access of a scalar field or a list (fs's constant field). */
function recConstant(log: FieldLog | null, no: () => number | null, w: number): void {
  if (log === null || !log.on) return;
  const n = no();
  if (n === null) log.trip();
  else log.rec(n, w);
}

/** Record reads and writes of a scalar field of `obj` as `key` (and as field `no`, a constant). */
export function recordField(obj: object, field: string, key: string, fs?: FieldSink<void>): void {
  let val = (obj as Record<string, unknown>)[field];
  const log = fs === undefined ? null : fs.log, no = fs === undefined ? () => null : constantField(fs);
  Object.defineProperty(obj, field, {
    get() {
      rec(key, 1);
      recConstant(log, no, 1);
      return val;
    },
    set(v) {
      rec(key, 2);
      recConstant(log, no, 2);
      val = v;
    },
  });
}

/**
 * Wrap a Map: get/has read one key, set/delete write it; iteration and size read all ("name[*]").
 * As fields (fs): key k is field no(k) and the key set is field no(ALL) (`all`). get/has read k;
 * set of a present key writes k; set of a new key and delete of a present one write k and the key
 * set; size reads the key set; iteration reads the key set and every present key; clear writes
 * them all (of an empty map: reads the key set). Values must not be mutated in place (they are not
 * wrapped). A method's wrapper is made once per wrapped map and name.
 */
export function recordMap<K, V>(m: Map<K, V>, name: string, fs?: FieldSink<K> & { readonly all: number }): Map<K, V> {
  const log = fs === undefined ? null : fs.log;
  const one = (k: K, w: number) => {
    const n = (fs as FieldSink<K>).no(k);
    if (n === null) (log as FieldLog).trip();
    else (log as FieldLog).rec(n, w);
  };
  const readAll = (t: Map<K, V>, w: number) => {
    if (log === null || !log.on) return;
    log.rec((fs as { readonly all: number }).all, w);
    for (const k of t.keys()) one(k, w);
  };
  const method = (t: Map<K, V>, p: string | symbol, v: (...a: unknown[]) => unknown) => {
    if (p === "get" || p === "has")
      return (...args: unknown[]) => {
        const k = args[0] as K;
        if (cur !== null) rec(`${name}[${String(k)}]`, 1);
        if (log !== null && log.on) one(k, 1);
        return v.apply(t, args);
      };
    if (p === "set" || p === "delete")
      return (...args: unknown[]) => {
        const k = args[0] as K;
        if (cur !== null) rec(`${name}[${String(k)}]`, 2);
        if (log !== null && log.on) {
          const present = t.has(k);
          // A new key or a removed one changes the key set; a delete of an absent key changes nothing.
          one(k, p === "delete" && !present ? 1 : 2);
          if ((p === "set") !== present) log.rec((fs as { readonly all: number }).all, 2);
        }
        return v.apply(t, args);
      };
    return (...args: unknown[]) => {
      // Clearing an empty map changes nothing: it only reads that the key set is empty (two
      // flushes of an empty GPU TLB are independent).
      const w = p === "clear" && t.size > 0 ? 2 : 1;
      if (cur !== null) rec(`${name}[*]`, w);
      readAll(t, w);
      return v.apply(t, args);
    };
  };
  let methods: Map<string | symbol, (...a: unknown[]) => unknown> | null = null;
  return new Proxy(m, {
    get(t, p) {
      const v = Reflect.get(t, p, t);
      if (p === "size") {
        if (cur !== null) rec(`${name}[*]`, 1);
        if (log !== null && log.on) log.rec((fs as { readonly all: number }).all, 1);
      }
      if (typeof v !== "function") return v;
      methods ??= new Map();
      let f = methods.get(p);
      if (f === undefined) methods.set(p, (f = method(t, p, v as (...a: unknown[]) => unknown)));
      return f;
    },
  });
}

/** Wrap an array as one field: any read reads it, any write (push, splice, index set...) writes it.
 *  A method's wrapper is made once per wrapped list and name. */
export function recordList<T>(arr: T[], name: string, fs?: FieldSink<void>): T[] {
  const log = fs === undefined ? null : fs.log, no = fs === undefined ? () => null : constantField(fs);
  let methods: Map<string | symbol, (...a: unknown[]) => unknown> | null = null;
  const method = (t: T[], p: string | symbol, v: (...a: unknown[]) => unknown) => {
    const w = LIST_WRITERS.includes(p) ? 2 : 1;
    return (...args: unknown[]) => {
      rec(name, w);
      recConstant(log, no, w);
      return v.apply(t, args);
    };
  };
  return new Proxy(arr, {
    get(t, p) {
      const v = Reflect.get(t, p, t);
      if (typeof v === "function") {
        methods ??= new Map();
        let f = methods.get(p);
        if (f === undefined) methods.set(p, (f = method(t, p, v as (...a: unknown[]) => unknown)));
        return f;
      }
      rec(name, 1);
      recConstant(log, no, 1);
      return v;
    },
    set(t, p, v) {
      rec(name, 2);
      recConstant(log, no, 2);
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

// ---- Scalars recorded without slowing their object down ----
// recordField and tripField turn an existing data property into an accessor, which puts the whole
// object in V8's dictionary mode: every property load on it (mem.ref, mm.ptePfn, ...) becomes a
// hash lookup. The hot kernel objects (PhysMem, Mm, Vma) instead declare their recorded scalars
// without an initializer and define them once with initScalar: a plain data property when nothing
// records, else an accessor whose getter and setter are shared by every object (one pair per name,
// made once below), so the objects stay in fast mode and share their maps. Same records as
// recordField / tripField.

/** Where an object keeps the state of its scalars defined by initScalar. */
const SCALARS: unique symbol = Symbol("recorded scalars");
interface Scalar {
  val: unknown;
  /** The race log's key (recordField's `key`), or null. */
  readonly key: string | null;
  readonly log: FieldLog | null;
  readonly no: () => number | null;
  /** tripField's semantics: any access trips the log. */
  readonly trips: boolean;
}
type WithScalars = { [SCALARS]: Record<string, Scalar> };

function touchScalar(s: Scalar, w: number): void {
  if (s.trips) (s.log as FieldLog).trip();
  else {
    if (s.key !== null) rec(s.key, w);
    recConstant(s.log, s.no, w);
  }
}

const scalarAccessor = (name: string): PropertyDescriptor =>
  Object.freeze({
    get(this: WithScalars): unknown {
      const s = this[SCALARS][name];
      touchScalar(s, 1);
      return s.val;
    },
    set(this: WithScalars, v: unknown): void {
      const s = this[SCALARS][name];
      touchScalar(s, 2);
      s.val = v;
    },
    enumerable: true,
    configurable: true,
  });

/** Every name initScalar defines (one shared accessor pair each). */
const SCALAR_ACCESSORS: Readonly<Record<string, PropertyDescriptor>> = Object.freeze({
  nfree: scalarAccessor("nfree"),
  start: scalarAccessor("start"),
  end: scalarAccessor("end"),
  flags: scalarAccessor("flags"),
  hasPinned: scalarAccessor("hasPinned"),
  writeProtectSeq: scalarAccessor("writeProtectSeq"),
  users: scalarAccessor("users"),
  count: scalarAccessor("count"),
  vmas: scalarAccessor("vmas"),
  oomSkip: scalarAccessor("oomSkip"),
  unstable: scalarAccessor("unstable"),
  notifiers: scalarAccessor("notifiers"),
  writeLockedVmas: scalarAccessor("writeLockedVmas"),
  faultHandler: scalarAccessor("faultHandler"),
  needsFlush: scalarAccessor("needsFlush"),
  nextIova: scalarAccessor("nextIova"),
  fences: scalarAccessor("fences"),
});

/** How initScalar records a scalar: as recordField(obj, field, key, fs) would, as tripField(obj,
 *  field, log) would (`trip`), or not at all (null: a plain data property). */
export type ScalarRecord = { readonly key: string; readonly fs?: FieldSink<void> } | { readonly trip: FieldLog } | null;

/** Define obj[field] = value, recorded as `how` says. obj must not have the property yet (declare
 *  it without an initializer), and field must be one of SCALAR_ACCESSORS' names. */
export function initScalar(obj: object, field: string, value: unknown, how: ScalarRecord): void {
  if (how === null) {
    (obj as Record<string, unknown>)[field] = value;
    return;
  }
  const desc = SCALAR_ACCESSORS[field];
  if (desc === undefined) throw new Error(`internal: initScalar of "${field}", which has no shared accessor (access-log.ts SCALAR_ACCESSORS)`);
  const me = obj as unknown as WithScalars;
  if (!Object.prototype.hasOwnProperty.call(me, SCALARS)) Object.defineProperty(me, SCALARS, { value: {}, enumerable: false });
  me[SCALARS][field] =
    "trip" in how
      ? { val: value, key: null, log: how.trip, no: () => null, trips: true }
      : { val: value, key: how.key, log: how.fs === undefined ? null : how.fs.log, no: how.fs === undefined ? () => null : constantField(how.fs), trips: false };
  Object.defineProperty(obj, field, desc);
}
