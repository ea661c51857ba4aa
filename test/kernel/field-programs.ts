// The generated kernel-model programs of the field-footprint tests (field-foot.test.ts: DPOR on
// fields against DFS; field-foot-golden.test.ts: every recorded footprint against a golden; their outcome sets: outcome-set.ts).
import { model } from "../../lib/explorer/index.ts";
import type { Yieldable } from "../../lib/explorer/index.ts";
import type { Program } from "./outcome-set.ts";
import { Prng } from "../../lib/explorer/prng.ts";
import { boot } from "../../lib/kernel/kernel.ts";
import type { Kernel } from "../../lib/kernel/kernel.ts";
import { ENOW } from "../../lib/kernel/era.ts";
import { mm_alloc, mmap_region, PTE_PRESENT, PTE_WRITE, type Mm } from "../../lib/kernel/mm.ts";
import { addRmap, setPte } from "../../lib/kernel/pgtable.ts";
import { PG_ANON, PG_LRU, PG_SWAPBACKED } from "../../lib/kernel/page.ts";
import { swapon } from "../../lib/kernel/swap.ts";
import { kswapd, try_to_free_pages } from "../../lib/kernel/vmscan.ts";
import { folio_mkclean } from "../../lib/kernel/rmap.ts";
import { GFP_KERNEL } from "../../lib/kernel/gfp.ts";
import { user_read, user_write } from "../../lib/kernel/user.ts";
import { munmap } from "../../lib/kernel/munmap.ts";
import { madvise_dontneed } from "../../lib/kernel/madvise.ts";
import { FOLL_LONGTERM, FOLL_WRITE, get_user_pages_fast, pin_user_pages, put_page, set_page_dirty, unpin_user_page } from "../../lib/kernel/gup.ts";
import { mprotect, PROT_READ, PROT_WRITE } from "../../lib/kernel/mprotect.ts";
import { fork } from "../../lib/kernel/fork.ts";
import { __dma_map_sg, dma_device, dma_map_sg, dma_unmap_sg, sg_alloc_table_from_pages, type DmaDevice, type SgTable } from "../../lib/kernel/dma-mapping.ts";
import { fq_flush_timeout } from "../../lib/kernel/iommu.ts";
import { devState } from "../../lib/kernel/device-oracles.ts";
import { gpuvm_create, gpuvm_map, gpuvm_map_sgt, gpuvm_tlb_flush, gpuvm_unmap, type GpuVm } from "../../lib/kernel/gpu-vm.ts";
import { drm_sched_entity_push_job, drm_sched_job_init, gpu_engine, gpu_job, type GpuEngine, type GpuJob } from "../../lib/kernel/gpu.ts";
import { mmu_notifier_invalidate_range_end, mmu_notifier_invalidate_range_start, mmu_notifier_range_init } from "../../lib/kernel/mmu-notifier.ts";
import { MirrorGpu } from "../../lib/kernel/mirror-gpu.ts";
import type { FieldLog } from "../../lib/kernel/field-log.ts";

export type Gen<T> = Generator<Yieldable, T, unknown>;
/** What a thread's operations act on besides the mm: the test device, a GPU VM without an
 *  IOMMU and its engine (jobs run on threads of their own), the child mm of a fork; a device
 *  behind a strict IOMMU (`io`) and one behind a lazy one (`lazy`), a GPU VM on each, and one sg
 *  table per device, mapped at setup, over page 0's frame (or a frame of its own when unmapped). */
interface Dev {
  readonly gpu: MirrorGpu;
  readonly vm: GpuVm;
  readonly io: IoDev;
  readonly lazy: IoDev;
  readonly gfx: GpuEngine;
  readonly child: Mm;
  readonly jobs: GpuJob[];
  readonly t: number;
}
type Op = (k: Kernel, mm: Mm, d: Dev, out: unknown[]) => Gen<void>;
interface IoDev {
  readonly dev: DmaDevice;
  readonly vm: GpuVm;
  readonly sgt: SgTable;
}

/** Bind the sg table at VA 8 of the device's VM, then run a job that writes it (through the IOMMU). */
function* ioJob(k: Kernel, mm: Mm, d: Dev, io: IoDev, out: unknown[]): Gen<void> {
  yield* gpuvm_map_sgt(k, io.vm, 8, io.sgt);
  const job = gpu_job(`J${d.t}`, io.vm, [{ va: 8, write: true }]);
  d.jobs.push(job);
  out.push(yield* drm_sched_job_init(k, d.gfx, job));
  yield* drm_sched_entity_push_job(k, d.gfx, job);
}

/** The operations a generated thread draws from, on page v (0 or 1). */
export const OPS: ((v: number) => [string, Op])[] = [
  (v) => [`read ${v}`, function* (k, mm, _g, out) { out.push(yield* user_read(k, mm, v)); }],
  (v) => [`write ${v}`, function* (k, mm, _g, out) { out.push(yield* user_write(k, mm, v)); }],
  (v) => [`read ${v}`, function* (k, mm, _g, out) { out.push(yield* user_read(k, mm, v)); }],
  (v) => [`write ${v}`, function* (k, mm, _g, out) { out.push(yield* user_write(k, mm, v)); }],
  (v) => [`munmap ${v}`, function* (k, mm, _g, out) { out.push(yield* munmap(k, mm, v, 1)); }],
  (v) => [`dontneed ${v}`, function* (k, mm, _g, out) { out.push(yield* madvise_dontneed(k, mm, v, 1)); }],
  (v) => [`pin ${v}`, function* (k, mm, _g, out) {
    const pages: number[] = [];
    const n = yield* pin_user_pages(k, mm, v, 1, FOLL_WRITE | FOLL_LONGTERM, pages);
    out.push(n);
    for (let i = 0; i < n; i++) yield* unpin_user_page(k, pages[i]);
  }],
  (v) => [`gup-fast ${v}`, function* (k, mm, _g, out) {
    const pages: number[] = [];
    const n = yield* get_user_pages_fast(k, mm, v, 1, FOLL_WRITE, pages);
    out.push(n);
    for (let i = 0; i < n; i++) {
      yield* set_page_dirty(k, pages[i]);
      yield* put_page(k, pages[i]);
    }
  }],
  (v) => [`mprotect ro ${v}`, function* (k, mm, _g, out) { out.push(yield* mprotect(k, mm, v, 1, PROT_READ)); }],
  (v) => [`gpu map+write ${v}`, function* (k, mm, { gpu: g }, out) {
    const pfn = yield* k.mem.step("look up pfn", "r", () => mm.cpuPfn(v));
    if (pfn >= 0) yield* g.map(v, [pfn]);
    out.push(yield* g.write(v));
  }],
  (v) => [`invalidate ${v}`, function* (k, mm, { gpu: g }) {
    const r = mmu_notifier_range_init(k, mm, v, v + 1, "CLEAR");
    yield* mmu_notifier_invalidate_range_start(k, r);
    yield* g.unmap(v, v + 1);
    yield* mmu_notifier_invalidate_range_end(k, r);
  }],
  // The split GPU steps: gpuvm_map (a userptr binding), the job's fetch and completion on the
  // engine's own thread, gpuvm_unmap and the GPU TLB flush.
  (v) => [`gpu job ${v}`, function* (k, mm, d, out) {
    const pfn = yield* k.mem.step("look up pfn", "r", () => mm.cpuPfn(v));
    if (pfn >= 0) yield* gpuvm_map(k, d.vm, v, pfn, true, { mm, vpn: v });
    const job = gpu_job(`J${d.t}`, d.vm, [{ va: v, write: true }], { bos: ["userptr"] });
    d.jobs.push(job);
    out.push(yield* drm_sched_job_init(k, d.gfx, job));
    yield* drm_sched_entity_push_job(k, d.gfx, job);
  }],
  (v) => [`gpu unmap+flush ${v}`, function* (k, _mm, d) {
    yield* gpuvm_unmap(k, d.vm, v, 1);
    yield* gpuvm_tlb_flush(k, d.vm);
  }],
  (v) => [`wrprotect+unprotect ${v}`, function* (k, mm, _d, out) {
    out.push(yield* mprotect(k, mm, v, 1, PROT_READ));
    out.push(yield* mprotect(k, mm, v, 1, PROT_READ | PROT_WRITE));
  }],
  // fork: the other thread's stores then break COW (do_wp_page, wp_page_copy).
  (v) => [`fork ${v}`, function* (k, mm, d, out) {
    out.push(yield* fork(k, mm, d.child));
  }],
  // The split IOMMU and DMA-mapping steps: a job through a strict or a lazy IOMMU (the fetch, then
  // the completion's IOTLB fill and IO PTE walk), dma_unmap_sg (strict: unmap, IOTLB sync, free
  // the IOVA; lazy: unmap and queue, then the flush queue's timeout), dma_map_sg again.
  () => [`iommu job`, function* (k, mm, d, out) { yield* ioJob(k, mm, d, d.io, out); }],
  () => [`iommu bind`, function* (k, _mm, d) { yield* gpuvm_map_sgt(k, d.io.vm, 8, d.io.sgt); }],
  () => [`iommu unmap+remap`, function* (k, _mm, d, out) {
    yield* dma_unmap_sg(k, d.io.dev, d.io.sgt);
    out.push(yield* dma_map_sg(k, d.io.dev, d.io.sgt));
  }],
  () => [`lazy iommu job`, function* (k, mm, d, out) { yield* ioJob(k, mm, d, d.lazy, out); }],
  () => [`lazy iommu unmap+flush`, function* (k, _mm, d) {
    yield* dma_unmap_sg(k, d.lazy.dev, d.lazy.sgt);
    yield* fq_flush_timeout(k, d.lazy.dev.domain!);
  }],
];

/** How many of OPS the generator draws from: the ones after it only a `forced` list reaches (added
 *  later: drawing them too would change every generated program, and field-foot-golden.json). */
const DRAWN = OPS.length;

/** Reclaim (forced only): the split steps of vmscan.ts and rmap.ts. Direct reclaim of one LRU page
 *  (the pick is explored) through add_to_swap, try_to_unmap and pageout; kswapd the same; and
 *  folio_mkclean (writeback's write-protect pass) on page v's frame under its page lock. */
OPS.push(
  () => [`reclaim`, function* (k, _mm, _d, out) { out.push(yield* try_to_free_pages(k, GFP_KERNEL)); }],
  () => [`kswapd`, function* (k, _mm, _d, out) { out.push(yield* kswapd(k)); }],
  (v) => [`mkclean ${v}`, function* (k, mm, _d, out) {
    const pfn = yield* k.mem.step("look up pfn", "r", () => mm.cpuPfn(v));
    if (pfn < 0) return;
    const lock = k.pageLock(pfn);
    yield* lock.lock();
    out.push(yield* folio_mkclean(k, pfn));
    yield* lock.unlock();
  }],
);
const RECLAIMS = /^(reclaim|kswapd|mkclean)/;


/** A thread of a program: its operations in turn. Module-level, called from an arrow: a generator
 *  function made per execution keeps the execution alive through every scavenge (V8 gives it a
 *  hidden class of its own in the old generation; test/explorer/programs.ts). */
function* runOps(ops: readonly [string, Op][], k: Kernel, mm: Mm, d: Dev, out: unknown[]): Gen<void> {
  for (const [, op] of ops) yield* op(k, mm, d, out);
}

/** A program: 2-3 threads of 1-2 operations on 1-2 pages, mostly loads and stores to pages mapped
 *  at setup (a fault is dozens of steps: DFS could not finish), and at most one other operation.
 *  `drop`: the mutation (field-log.ts FieldLog.drop). `forced`: the first operation of thread t
 *  is OPS[forced[t]] (on a random page), the rest loads and stores. */
export function program(seed: number, drop?: (field: string) => boolean, forced: readonly number[] = [], spy?: (fl: FieldLog) => void): Program {
  const rnd = new Prng(seed);
  const pages = forced.length ? 1 : 1 + rnd.below(2), mapped = forced.length > 0 || rnd.below(4) !== 0;
  const threads: [string, Op][][] = [];
  const nt = forced.length ? 2 : 2 + rnd.below(2);
  let heavy = forced.length > 0;
  for (let t = 0; t < nt; t++) {
    const ops: [string, Op][] = [];
    const n = 1 + rnd.below(2);
    if (t < forced.length) ops.push(OPS[forced[t]](rnd.below(pages)));
    for (let i = ops.length; i < n; i++) {
      const other: boolean = !heavy && rnd.below(4) === 0;
      heavy ||= other;
      ops.push(OPS[other ? 4 + rnd.below(DRAWN - 4) : rnd.below(2)](rnd.below(pages)));
    }
    threads.push(ops);
  }
  const text = `${pages} page(s)${mapped ? " mapped" : ""}: ${threads.map((ops, t) => `T${t}[${ops.map((o) => o[0]).join(", ")}]`).join(" ")}`;
  const m = model(`fields ${seed}`, () => {
    const k = boot(ENOW);
    const fl = k.mem.fields;
    if (drop && fl) fl.drop = (f) => drop(fl.describe(f));
    if (spy && fl) spy(fl);
    const mm = mm_alloc(k, 2, "p");
    mmap_region(mm, 0, pages);
    // Reclaim needs swap, and LRU pages to pick (as a fault's anon page is).
    const reclaims = threads.some((ops) => ops.some((o) => RECLAIMS.test(o[0])));
    if (reclaims) swapon(k, 4);
    if (mapped)
      for (let v = 0; v < pages; v++) {
        const pfn = k.mem.allocFrame();
        k.mem.flags[pfn] |= PG_ANON | (reclaims ? PG_LRU | PG_SWAPBACKED : 0);
        addRmap(k, pfn);
        // With reclaim, the mapping holds the only reference, as after populate() (else
        // __remove_mapping always keeps it and the free is never reached); PG_ANON_EXCLUSIVE stays
        // off (populate sets it today), so a store's COW reuse check takes the page lock.
        if (reclaims) {
          k.mem.anonMm[pfn] = mm.id;
          k.mem.index[pfn] = v;
          k.mem.putPage(pfn);
        }
        setPte(mm, v, pfn, PTE_PRESENT | PTE_WRITE);
      }
    const gpu = new MirrorGpu(k, mm);
    const vm = gpuvm_create(k, "vm", dma_device(k, "gpu", "none"));
    const gfx = gpu_engine(k, "gfx");
    const child = mm_alloc(k, 2, "c");
    const ioDev = (mode: "strict" | "lazy"): IoDev => {
      const dev = dma_device(k, mode, mode);
      const sgt = sg_alloc_table_from_pages(`${mode}.sgt`, [mapped ? mm.ptePfn[0] : k.mem.allocFrame()]);
      __dma_map_sg(k, dev, sgt);
      return { dev, vm: gpuvm_create(k, `${mode}.vm`, dev), sgt };
    };
    const io = ioDev("strict"), lazy = ioDev("lazy");
    devState(k); // made at setup: made inside a step, it makes that step fall back (device-oracles.ts)
    const jobs: GpuJob[] = [];
    const out: unknown[][] = threads.map(() => []);
    const bodies: Record<string, () => Gen<void>> = {};
    threads.forEach((ops, t) => {
      const d: Dev = { gpu, vm, io, lazy, gfx, child, jobs, t };
      bodies[`T${t}`] = () => runOps(ops, k, mm, d, out[t]);
    });
    return {
      threads: bodies,
      final: () => {
        const pt: string[] = [];
        for (const m of [mm, child])
          for (let v = 0; v < pages; v++) pt.push(`${m.ptePfn[v]}/${m.pteFlags[v]}/${m.tlbPfn[v]}:${m.cpuPfn(v) >= 0 ? k.mem.contents[m.cpuPfn(v)] : "-"}`);
        const ioState = [io, lazy].map(({ dev, vm: v, sgt }) => [[...v.pte.keys()], [...v.tlb.keys()], [...dev.domain!.pt.keys()], sgt.dma.map((a) => dev.domain!.cached(a)), sgt.nents, dev.domain!.fq.length, dev.domain!.faults.length]);
        const gpuState = [[...vm.pte.keys()], [...vm.tlb.keys()], jobs.map((j) => j.status), ioState];
        const swap = k.swap ? [[...k.swap.slotPfn], [...k.swap.count], [...k.swap.data], [...k.mem.flags], [...k.mem.ref], [...k.mem.mapcount]] : [];
        return JSON.stringify([out, pt, gpuState, k.mem.freeCount(), [...k.mem.contents], [...k.mem.hw], ...swap]);
      },
    };
  });
  return { text, model: m };
}

/** The index in OPS of the operation whose name starts with `name`. */
export function opIndex(name: string): number {
  return OPS.findIndex((o) => o(0)[0].startsWith(name));
}
