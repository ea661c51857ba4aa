// Swap space and the swap cache (kernel-semantics §13). Model of mm/swap_state.c and
// mm/swapfile.c reduced to: slots holding persisted contents, and the swap-cache association
// slot <-> frame. State is hardware-visible memory: touch it only inside a memory step.
//
// Field footprints (field-log.ts): every array is recorded, per slot or per frame (SPACE_SWAP), so
// a split memory step may read and write swap state (reclaim's add_to_swap and pageout,
// try_to_unmap_one's swap entry). Made at setup (swapon), after the kernel's field log.

import type { Kernel } from "./kernel.ts";
import { accessLogOn, recordArray, type ArraySink } from "./access-log.ts";
import { fieldNo, linearFields, SPACE_SWAP, SW_COUNT, SW_DATA, SW_PFN_SLOT, SW_SLOT_PFN, SW_USED } from "./field-log.ts";
import { PG_DIRTY, PG_SWAPCACHE, PG_WRITEBACK } from "./page.ts";

export class Swap {
  /** Persisted contents mask per slot; slotUsed = allocated. */
  readonly data: Int32Array;
  readonly slotUsed: Uint8Array;
  /** Swap cache: frame in the swap cache for a slot, -1 if none. */
  readonly slotPfn: Int32Array;
  /** Reverse: slot of a frame in the swap cache, -1 if none. */
  readonly pfnSlot: Int32Array;
  /** Number of swap PTEs referencing each slot (swap count). */
  readonly count: Int32Array;
  constructor(
    k: Kernel,
    readonly nslots: number,
  ) {
    this.data = new Int32Array(nslots);
    this.slotUsed = new Uint8Array(nslots);
    this.slotPfn = new Int32Array(nslots).fill(-1);
    this.pfnSlot = new Int32Array(k.mem.nframes).fill(-1);
    this.count = new Int32Array(nslots);
    const fl = k.mem.fields;
    if (fl === null && !accessLogOn()) return;
    const sink = (f: number): ArraySink | undefined => (fl === null ? undefined : { log: fl, no: (i) => fieldNo(SPACE_SWAP, 0, i, f), ...linearFields(SPACE_SWAP, 0, f) });
    const me = this as unknown as Record<string, Int32Array | Uint8Array>;
    const names: [string, number][] = [["data", SW_DATA], ["slotUsed", SW_USED], ["slotPfn", SW_SLOT_PFN], ["count", SW_COUNT], ["pfnSlot", SW_PFN_SLOT]];
    for (const [name, f] of names) {
      me[name] = recordArray(me[name], (i) => `S${i}.${name}`, sink(f));
      fl?.names.set(SPACE_SWAP * 64 + f, name);
    }
  }
  /** get_swap_page: a free slot or -1. */
  allocSlot(): number {
    for (let s = 0; s < this.nslots; s++)
      if (!this.slotUsed[s]) {
        this.slotUsed[s] = 1;
        this.count[s] = 0;
        this.data[s] = 0;
        return s;
      }
    return -1;
  }
}

/** swapon for a scenario (setup only): enables swap-out of anon pages. */
export function swapon(k: Kernel, nslots = 8): Swap {
  k.swap = new Swap(k, nslots);
  return k.swap;
}

/**
 * delete_from_swap_cache (mm/swap_state.c) without the reference: the frame leaves the swap cache,
 * and its slot is freed when no swap entry names it any more (put_swap_folio). Callers drop the
 * cache's reference themselves (__remove_mapping has frozen it). Inside a memory step.
 */
export function deleteFromSwapCache(k: Kernel, pfn: number): void {
  const swap = k.swap!;
  const slot = swap.pfnSlot[pfn];
  swap.slotPfn[slot] = -1;
  swap.pfnSlot[pfn] = -1;
  releaseSlotIfUnused(swap, slot);
  k.mem.flags[pfn] &= ~PG_SWAPCACHE;
}

/** A slot is in use while a swap entry names it or a page is in the swap cache for it: free it
 *  when neither holds (put_swap_folio / swap_entry_free). Inside a memory step. */
export function releaseSlotIfUnused(swap: Swap, slot: number): void {
  if (swap.count[slot] === 0 && swap.slotPfn[slot] < 0) swap.slotUsed[slot] = 0;
}

/**
 * folio_free_swap (mm/swapfile.c, v6.x; try_to_free_swap in v4.16): with the page locked, drop a
 * swap-cache page from the cache, but only if no swap entry still names its slot (folio_swapped)
 * and it is not under writeback. The data then lives only in memory: the page is dirtied. Returns
 * whether it was dropped. Inside a memory step, with the page lock held.
 */
export function folio_free_swap(k: Kernel, pfn: number): boolean {
  const mem = k.mem;
  // In the swap cache is asked of the swap cache (pfnSlot, set together with PG_SWAPCACHE), not
  // of the page's flags: a read of flags would order this step against every flag change.
  const slot = k.swap ? k.swap.pfnSlot[pfn] : -1;
  if (slot < 0 || k.swap!.count[slot] !== 0 || mem.flags[pfn] & PG_WRITEBACK) return false;
  deleteFromSwapCache(k, pfn);
  mem.flags[pfn] |= PG_DIRTY;
  mem.putPage(pfn); // the cache's reference: never the last, the caller holds one (the kernel's folio_ref_sub)
  return true;
}
