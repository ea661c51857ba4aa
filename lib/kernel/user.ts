// User-space CPU accesses: a load or store by the process at mm:vpn. One memory step does what
// the MMU does atomically: use the TLB entry if there is one (even if the PTE changed since:
// entries survive until flushed), else walk the page table and fill the TLB. If neither allows
// the access, the task takes a page fault (mmap_lock read, handle_mm_fault) and retries.

import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, kcall, leave } from "./kernel.ts";
import { lock_vma_under_rcu, type Mm } from "./mm.ts";
import { PTE_DIRTY, PTE_PRESENT, PTE_WRITE, PTE_YOUNG } from "./mm.ts";
import { handle_mm_fault, VM_FAULT_OK } from "./fault.ts";
import { tlbFill } from "./pgtable.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

const HIT = 0, FAULT = 1;

/** A store by user space. Returns CPU_WRITE_ID (page.ts: every CPU store sets that contents bit), or -2 on SIGSEGV. */
export function* user_write(k: Kernel, mm: Mm, vpn: number): Gen<number> {
  const __f = enter(k, `user store ${mm.name}:${vpn}`);
  try {
    for (let i = 0; i < 4; i++) {
      let id = -1;
      const r = yield* k.mem.fieldStep(`store ${mm.name}:${vpn}`, "w", () => {
        if (!(mm.tlbPfn[vpn] >= 0 && mm.tlbWrite[vpn])) {
          if (!mm.writable(vpn)) return FAULT;
          tlbFill(k, mm, vpn);
        }
        // The MMU sets accessed/dirty only when they are clear (x86: a locked update of the PTE only
        // then); writing them when set changes nothing, and would be a write for the race log.
        if (mm.ptePfn[vpn] === mm.tlbPfn[vpn] && mm.pteFlags[vpn] & PTE_PRESENT && (mm.pteFlags[vpn] & (PTE_DIRTY | PTE_YOUNG)) !== (PTE_DIRTY | PTE_YOUNG)) mm.pteFlags[vpn] |= PTE_DIRTY | PTE_YOUNG;
        id = k.mem.writeFrame(mm.tlbPfn[vpn], "cpu", mm.tlbGen[vpn], mm.id, vpn, `${mm.name}:${vpn}`);
        return HIT;
      });
      if (r === HIT) return id;
      if ((yield* fault(k, mm, vpn, true)) !== VM_FAULT_OK) return -2;
    }
    return -2;
  } finally {
    leave(__f);
  }
}

/** A load by user space. Returns the contents mask read, or -2 on SIGSEGV. */
export function* user_read(k: Kernel, mm: Mm, vpn: number): Gen<number> {
  const __f = enter(k, `user load ${mm.name}:${vpn}`);
  try {
    for (let i = 0; i < 4; i++) {
      let v = 0;
      const r = yield* k.mem.fieldStep(`load ${mm.name}:${vpn}`, "w", () => {
        if (mm.tlbPfn[vpn] < 0) {
          if (!(mm.pteFlags[vpn] & PTE_PRESENT)) return FAULT;
          tlbFill(k, mm, vpn);
        }
        if (mm.ptePfn[vpn] === mm.tlbPfn[vpn] && mm.pteFlags[vpn] & PTE_PRESENT && !(mm.pteFlags[vpn] & PTE_YOUNG)) mm.pteFlags[vpn] |= PTE_YOUNG;
        v = k.mem.readFrame(mm.tlbPfn[vpn], "cpu", mm.tlbGen[vpn], `${mm.name}:${vpn}`);
        return HIT;
      });
      if (r === HIT) return v;
      if ((yield* fault(k, mm, vpn, false)) !== VM_FAULT_OK) return -2;
    }
    return -2;
  } finally {
    leave(__f);
  }
}

function* fault(k: Kernel, mm: Mm, vpn: number, write: boolean): Gen<number> {
  // now (v6.4): try the VMA's read lock first; fall back to mmap_lock.
  const vma = yield* lock_vma_under_rcu(mm, vpn);
  if (vma) {
    const r = yield* handle_mm_fault(k, mm, vpn, { write });
    yield* vma.vmLock().upRead(`vma_end_read(${mm.name}:${vma.start})`);
    return r;
  }
  yield* mm.mmapLock.downRead(`mmap_read_lock(${mm.name}) (page fault)`);
  const r = yield* handle_mm_fault(k, mm, vpn, { write });
  yield* mm.mmapLock.upRead(`mmap_read_unlock(${mm.name})`);
  return r;
}

export { PTE_WRITE };
