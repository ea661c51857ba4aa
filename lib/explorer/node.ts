// Node-side helpers (not imported by index.ts): TTY progress on stderr.

import { setProgress, type ProgressFn } from "./progress.ts";

/** A progress callback printing one overwritten line to stderr, or null if stderr is not a TTY. */
export function ttyProgress(): ProgressFn | null {
  if (!process.stderr.isTTY) return null;
  return (p) => {
    if (p.done) {
      process.stderr.write("\r\x1b[K");
      return;
    }
    process.stderr.write(`\r\x1b[K[explorer] ${p.claim}: ${p.executions} executions, ${p.rate}/s, depth ${p.depth}, ${(p.ms / 1000).toFixed(1)} s`);
  };
}

/** Install ttyProgress() as the explorer's progress hook (no-op without a TTY). */
export function installTtyProgress(): void {
  setProgress(ttyProgress());
}
