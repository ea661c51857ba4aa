// Wall and CPU time of each stage of `npm test`, printed as a table before the summary line so a
// CI log shows where its minutes went. CPU is user + sys of this process and of the children it
// has waited for (vitest's forks, tsc, Playwright, mkdocs): on a shared machine the wall time
// says how busy it was, the CPU time how much work the stage did.

import { readFileSync } from "node:fs";

/** CPU seconds (user + sys) of this process and its waited-for children, from /proc/self/stat. */
export function cpuSeconds(): number {
  try {
    // Fields after the command's closing parenthesis: utime is the 14th field of the line, so the
    // 12th after ")" (state is the 3rd); cutime and cstime follow stime.
    const stat = readFileSync("/proc/self/stat", "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    return ticks / 100; // USER_HZ is 100 on every Linux ABI node runs on
  } catch {
    const u = process.cpuUsage(); // not Linux: this process only
    return (u.user + u.system) / 1e6;
  }
}

export interface StageTime { name: string; wallS: number; cpuS: number }

export class StageClock {
  readonly stages: StageTime[] = [];
  private readonly t0 = performance.now();
  private readonly c0 = cpuSeconds();

  async time<T>(name: string, f: () => Promise<T>): Promise<T> {
    const t = performance.now(), c = cpuSeconds();
    try { return await f(); } finally {
      this.stages.push({ name, wallS: (performance.now() - t) / 1000, cpuS: cpuSeconds() - c });
    }
  }

  table(): string {
    const total: StageTime = { name: "total", wallS: (performance.now() - this.t0) / 1000, cpuS: cpuSeconds() - this.c0 };
    const rows = [...this.stages, total];
    const w = Math.max(...rows.map((r) => r.name.length));
    const fmt = (s: number) => { const m = Math.floor(s / 60); return `${m}:${(s - 60 * m).toFixed(1).padStart(4, "0")}`; };
    return [`${"stage".padEnd(w)}    wall  cpu (user+sys)`,
      ...rows.map((r) => `${r.name.padEnd(w)}  ${fmt(r.wallS).padStart(6)}  ${fmt(r.cpuS).padStart(6)}`)].join("\n");
  }
}
