// Field footprints for hardware-visible memory (issue 13 goal 1; lib/explorer/README.md "Field
// footprints"). The explorer sees all of it as ONE object, `memory` (page.ts). With
// search.fields on, a memory step that kernel code vouches touches only recorded state (a
// "split" step, PhysMem.fieldStep) depends on other steps by the fields it read and wrote; a
// memory step declared "r" that is not split reads all of memory (anyWrite) if the log saw it
// write nothing; every other memory step counts as writing all of memory. This recorder, one
// per booted kernel (no module-level state), collects the fields of the running step from the
// recording wrappers of access-log.ts, and can be tripped: a split step that reaches state no
// wrapper records (fieldTrip) falls back to all of memory.
//
// A field is a number computed from its identity alone (space, owner, index, field), never from
// the order fields were first touched, so one number names one field in every execution that
// shares the prefix up to the step; sleep sets compare a sleeper's record made in an earlier
// execution (dpor.ts). Owners are numbers the kernel hands out in a deterministic order (an mm's
// id, a GPU VM's index), fixed for every object that exists when the record is made.

import { FIELD_MIN, MODE_WRITE } from "../explorer/effect.ts";
import type { FieldRecorder } from "../explorer/effect.ts";
import { currentRuntime } from "../explorer/context.ts";

/** Field spaces (the top of a field number). */
export const SPACE_FRAME = 1, SPACE_GLOBAL = 2, SPACE_PTE = 3, SPACE_MAP = 4, SPACE_VMA = 5, SPACE_PMD = 6, SPACE_IOMMU = 7, SPACE_SG = 8, SPACE_SWAP = 9, SPACE_DEV = 10;
const SPACE_NAMES: readonly string[] = Object.freeze(["?", "frame", "global", "pte", "map", "vma", "pmd", "iommu", "sg", "swap", "dev"]);
/** An index past every real one: "the set of keys" of a recorded map. */
export const INDEX_ALL = 0xfffff;
export const MAX_OWNER = 0xffff, MAX_INDEX = 0xffffe, MAX_FIELD = 63;
/** SPACE_MAP owners: GPU VM n's PTEs 3n, its TLB 3n+1, its userptr VAs 3n+2 (below MAP_OWNER_GPU_END); the device
 *  oracles' per-page maps MAP_OWNER_DEVICE + 0x1000 * map + mm.id (mm.id below 0x1000). */
export const MAP_OWNER_GPU_END = 0x8000, MAP_OWNER_DEVICE = 0x8000;
/** SPACE_IOMMU: owner = the domain's number (iommu.ts), index = IOVA, field: IO PTE, IOTLB entry (their
 *  key sets at INDEX_ALL); index 0: the flush queue, the IOVA allocator, the fault log. */
export const IO_PTE = 0, IO_TLB = 1, IO_FQ = 2, IO_IOVA = 3, IO_FAULTS = 4;
/** SPACE_SG: owner = a hash of the sg table's name (dma-mapping.ts: tables that share it share
 *  fields, which only adds dependencies), index 0, field: DMA addresses, generations, counts, device. */
export const SG_DMA = 0, SG_GENS = 1, SG_COUNTS = 2, SG_DEV = 3;
/** SPACE_DEV: a device's own translation table that is not a GpuVm (mirror-gpu.ts's MirrorGpu):
 *  owner = FieldLog.newOwner(SPACE_DEV), index = page, field: the frame, its generation. */
export const DEV_PFN = 0, DEV_GEN = 1;
/** SPACE_SWAP (swap.ts): owner 0; per slot (index = slot) its data, whether it is in use, its
 *  swap-cache frame and its count; per frame (index = pfn) its swap-cache slot. */
export const SW_DATA = 0, SW_USED = 1, SW_SLOT_PFN = 2, SW_COUNT = 3, SW_PFN_SLOT = 4;

/** The number of field `f` of element `index` of structure `owner` in `space`. */
export function fieldNo(space: number, owner: number, index: number, f: number): number {
  if (!(owner >= 0 && owner <= MAX_OWNER && index >= 0 && index <= INDEX_ALL && f >= 0 && f <= MAX_FIELD && Number.isInteger(owner) && Number.isInteger(index)))
    throw new Error(`internal: field (${space}, ${owner}, ${index}, ${f}) out of range`);
  return FIELD_MIN + ((space * 0x10000 + owner) * 0x100000 + index) * 64 + f;
}

/** The fast path of a recorded typed array (access-log.ts ArraySink) whose element i is field
 *  fieldNo(space, owner, floor(i / per), f + i % per): exactly those i for which fieldNo is defined
 *  (no fast path at all when owner or a field is out of range: every access takes the checked
 *  fieldNo, which throws as before). */
export function linearFields(space: number, owner: number, f: number, per = 1): { base: number; per: number; limit: number } {
  const ok = Number.isInteger(owner) && owner >= 0 && owner <= MAX_OWNER && f >= 0 && f + per - 1 <= MAX_FIELD;
  return ok ? { base: fieldNo(space, owner, 0, f), per, limit: (INDEX_ALL + 1) * per } : { base: 0, per, limit: 0 };
}

const FIRST_SLOTS = 64;
/** A field's first slot in FieldLog's table of `mask + 1` slots. Field numbers are integers below
 *  2^53: mix their two 32-bit halves. */
const home = (field: number, mask: number): number => Math.imul((field >>> 0) ^ Math.imul(Math.floor(field / 4294967296), 0x85ebca6b), 0x9e3779b1) & mask;
/** FieldRecorder.anyWrite: "some field changed", in space 0, which no structure uses. */
const ANY_WRITE = fieldNo(0, 0, 0, 0);

/** The running step's fields: an open-addressing set over typed arrays, reused from step to step
 *  (one per kernel, where it was a Map per step). A slot belongs to the running step iff
 *  its stamp is the step's generation, so begin() clears nothing; `order` keeps the slots in
 *  first-touch order, the order end() reports them in (as the Map did). */
export class FieldLog implements FieldRecorder {
  /** A split step or a declared read is being recorded (the wrappers' fast test; `recording` reads it). */
  on = false;
  private escaped = false;
  private gen = 0;
  private n = 0;
  // A plain array of doubles: a confined chapter's realm (SES) has no Float64Array.
  private keys: number[] = new Array<number>(FIRST_SLOTS).fill(0.5);
  private stamp = new Uint32Array(FIRST_SLOTS);
  private mode = new Uint8Array(FIRST_SLOTS);
  private order = new Int32Array(FIRST_SLOTS / 2);
  /** Names of the fields of each space's structures, for describe(). */
  readonly names = new Map<number, string>();
  /** Owners handed out per space by newOwner(). */
  private readonly owners = new Map<number, number>();
  /** A new owner number in `space`, in the order structures ask for one. A model's setup runs the
   *  same way in every execution, so each structure gets the same number in every execution. */
  newOwner(space: number): number {
    const n = this.owners.get(space) ?? 0;
    this.owners.set(space, n + 1);
    return n;
  }
  /** effect.ts FieldRecorder.anyWrite: space 0 holds no real field. */
  readonly anyWrite = ANY_WRITE;

  /** Tests only (the mutation test of test/kernel/field-foot.test.ts): fields the log pretends
   *  not to see. A model sets it in its setup, so it lives and dies with this execution's kernel. */
  drop: ((field: number) => boolean) | null = null;

  /** A wrapper saw field `field` read (1) or written (2), or a commutative update of it (3:
   *  effect.ts MODE_UPDATE, only through PhysMem's own update methods and PageCounts.bump).
   *  Outside a recorded step: nothing. */
  rec(field: number, w: number): void {
    if (!this.on) return;
    if (this.drop !== null && this.drop(field)) return;
    const keys = this.keys, stamp = this.stamp, mask = keys.length - 1, gen = this.gen;
    let h = home(field, mask);
    while (stamp[h] === gen) {
      if (keys[h] === field) {
        // A read and an update of one field in one step make a read-modify-write: a write.
        if (w !== this.mode[h]) this.mode[h] = MODE_WRITE;
        return;
      }
      h = (h + 1) & mask;
    }
    stamp[h] = gen;
    keys[h] = field;
    this.mode[h] = w;
    this.order[this.n++] = h;
    if (this.n === this.order.length) this.grow();
  }
  /** Twice the slots, the running step's fields rehashed in their order. */
  private grow(): void {
    const n = this.n, oldKeys = this.keys, oldMode = this.mode, oldOrder = this.order;
    const size = oldKeys.length * 2;
    this.keys = new Array<number>(size).fill(0.5);
    this.stamp = new Uint32Array(size);
    this.mode = new Uint8Array(size);
    this.order = new Int32Array(size / 2);
    this.gen = 1;
    this.n = 0;
    for (let i = 0; i < n; i++) this.rec(oldKeys[oldOrder[i]], oldMode[oldOrder[i]]);
  }
  /** How the running step has touched `field` so far: 0 not at all, else its mode (rec's `w`). */
  modeOf(field: number): number {
    if (!this.on) return 0;
    const keys = this.keys, stamp = this.stamp, mask = keys.length - 1, gen = this.gen;
    let h = home(field, mask);
    while (stamp[h] === gen) {
      if (keys[h] === field) return this.mode[h];
      h = (h + 1) & mask;
    }
    return 0;
  }
  /** The running step's counts brought to 1 by a drop recorded as an update (PhysMem.putPage;
   *  effect.ts FieldRecorder.crossed), or null. */
  private crossings: number[] | null = null;
  /** The running step brought count `field` to 1 with an update (PhysMem.putPage). */
  cross(field: number): void {
    if (this.on && (this.drop === null || !this.drop(field))) (this.crossings ??= []).push(field);
  }
  crossed(): readonly number[] | null {
    return this.crossings;
  }
  /** The running step reached state no wrapper records: it counts as touching all of memory. */
  trip(): void {
    if (this.on) this.escaped = true;
  }
  get recording(): boolean {
    return this.on;
  }
  begin(): void {
    if (this.gen === 0xffffffff) {
      this.stamp.fill(0);
      this.gen = 0;
    }
    this.gen++;
    this.n = 0;
    this.on = true;
    this.escaped = false;
    this.crossings = null;
  }
  end(): number[] | null {
    const was = this.on;
    this.on = false;
    if (!was || this.escaped) return null;
    const out: number[] = [];
    for (let i = 0; i < this.n; i++) {
      const h = this.order[i];
      out.push(this.keys[h], this.mode[h]);
    }
    return out;
  }
  describe(field: number): string {
    if (field === ANY_WRITE) return "memory (some field written)";
    let x = (field - FIELD_MIN) / 64;
    const f = (field - FIELD_MIN) % 64;
    x = Math.floor(x);
    const index = x % 0x100000, rest = Math.floor(x / 0x100000), owner = rest % 0x10000, space = Math.floor(rest / 0x10000);
    const name = this.names.get(space * 0x10000 * 64 + owner * 64 + f) ?? this.names.get(space * 64 + f) ?? `f${f}`;
    return `${SPACE_NAMES[space] ?? space}:${owner}:${index === INDEX_ALL ? "*" : index}.${name}`;
  }
}

/** Are field footprints on in the running execution? (then the kernel installs its recorder) */
export function fieldsOn(): boolean {
  return currentRuntime()?.fieldFootprints?.() === true;
}

/** The running step reached state that no wrapper records (IOMMU, page cache, swap, sg tables,
 *  files, callbacks into drivers, ...): if it is a split step or a declared read, it falls back to
 *  writing all of memory. */
export function fieldTrip(log: FieldLog | null): void {
  if (log !== null) log.trip();
}
