// Writeback of a file page (kernel-semantics §3, §19: the gup + writeback hazard).
// Model of mm/page-writeback.c (write_cache_pages -> folio_clear_dirty_for_io -> folio_mkclean,
// __folio_start_writeback, folio_end_writeback) and ext4's writepage, reduced to one page.
//
// lock_page; if dirty: write-protect every PTE (folio_mkclean: notifier PROTECTION_PAGE per
// mapping), clear dirty, set writeback; the data goes to disk (contents persisted); end
// writeback; unlock. A dirty page without buffers here is what ext4 hit with BUG_ON (v4.16); from
// v5.18 ext4 warns, clears the dirty bit and skips the page, so its data never reaches the disk
// (Era.ext4SkipsBufferless).

import { finding, note } from "../explorer/index.ts";
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, kcall, leave } from "./kernel.ts";
import type { KFile } from "./file.ts";
import { folio_mkclean } from "./rmap.ts";
import { PG_DIRTY, PG_PRIVATE, PG_WRITEBACK } from "./page.ts";

/** Write back page `index` of `file` if it is cached and dirty. Returns true if it wrote. */
export function* writeback_page(k: Kernel, file: KFile, index: number): Generator<Yieldable, boolean, unknown> {
  const __f = enter(k, "write_cache_pages");
  try {
    const pfn = yield* k.mem.step(`find_get_page(${file.name}[${index}])`, "w", () => {
      const p = file.cache[index];
      if (p >= 0) k.mem.getPage(p);
      return p;
    });
    if (pfn < 0) return false;
    const lock = k.pageLock(pfn);
    yield* lock.lock();
    const dirty = yield* k.mem.step(`PageDirty(${pfn})?`, "r", () => (k.mem.flags[pfn] & PG_DIRTY) !== 0 && k.mem.mapping[pfn] === file.id);
    let wrote = false;
    if (dirty) {
      yield* folio_mkclean(k, pfn);
      const written = yield* k.mem.step(`clear_page_dirty_for_io + writepage(${pfn})`, "w", () => {
        const mem = k.mem;
        const bufferless = file.dirtyTracked && !(mem.flags[pfn] & PG_PRIVATE);
        if (bufferless && k.era.ext4SkipsBufferless) {
          // v5.18+: warn, clear the dirty bit, skip the page; its data never reaches the disk.
          finding("dirty-no-buffers", `writepage of frame ${pfn} (${file.name}[${index}]): dirty page without buffers (ext4 warns "page does not have buffers attached", clears the dirty bit and skips it: the data is not written)`, { pfn, file: file.name });
          mem.flags[pfn] &= ~PG_DIRTY;
          note(`${file.name}[${index}] not written back: frame ${pfn} has no buffers`);
          return false;
        }
        if (bufferless)
          finding("dirty-no-buffers", `writepage of frame ${pfn} (${file.name}[${index}]): dirty page without buffers (ext4: BUG_ON(!page_has_buffers))`, { pfn, file: file.name });
        mem.flags[pfn] = (mem.flags[pfn] & ~PG_DIRTY) | PG_WRITEBACK;
        file.disk[index] = mem.contents[pfn];
        note(`${file.name}[${index}] written back from frame ${pfn}`);
        return true;
      });
      if (written) {
        yield* k.mem.step(`end_page_writeback(${pfn})`, "w", () => {
          k.mem.flags[pfn] &= ~PG_WRITEBACK;
        });
        wrote = true;
      }
    }
    yield* lock.unlock();
    yield* k.mem.step(`put_page(${pfn})`, "w", () => k.mem.putPage(pfn));
    return wrote;
  } finally {
    leave(__f);
  }
}
