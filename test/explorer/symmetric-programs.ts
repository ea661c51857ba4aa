// Random symmetric programs for the symmetry-reduction property test (lib/explorer/symmetry.ts):
// one random body run by 2 or 3 threads T0..T(k-1) (identical code; a thread's index appears only
// in its register slot and in its findings' messages, "T1 read 0"), plus optionally a different
// thread and the rwsem writer W. Built on programs.ts's interpreter; the model declares the group
// and leaves final() out (symmetry refuses it): each thread reports what it observed in a finding
// at its end, and the test reads the variables through the last instance's final().
import type { Execution } from "../../lib/explorer/execution.ts";
import { finding, model, type Model, type Yieldable } from "../../lib/explorer/index.ts";
import { programModel, type Instr } from "./programs.ts";

export interface SymProgram {
  readonly body: Instr[];
  readonly copies: number;
  readonly other: Instr[] | null;
}

const TOKEN = /\bT(\d+)\b/g;

/**
 * The model, and the outcome key of an execution modulo permutations of the group: status, the
 * variables, and the smallest (over permutations) of the findings (what each thread observed included) with
 * thread names renamed.
 */
export function symmetricModel(p: SymProgram, declare = true): { model: Model<unknown>; outcome: (x: Execution) => string } {
  const prog = [...Array.from({ length: p.copies }, () => p.body), ...(p.other ? [p.other] : [])];
  const base = programModel(prog);
  let final: (() => { vars: number[]; regs: [string, number[]][] }) | undefined;
  const group = Array.from({ length: p.copies }, (_, t) => `T${t}`);
  const m = model(`symmetric program ×${p.copies}`, () => {
    const inst = base.setup();
    final = inst.final as NonNullable<typeof final>;
    // A finished thread's key is "finished" plus what the predicate can read: what it observed (every
    // value returned into it, kept in the generator itself so that snapshot backtracking's
    // re-fed generators rebuild it) goes into a finding at its end (final() is refused under symmetry).
    const threads = Object.fromEntries(
      Object.entries(inst.threads).map(([name, body]) => [
        name,
        function* (): Generator<Yieldable, void, unknown> {
          const g = body(), seen: unknown[] = [];
          let v: unknown;
          for (;;) {
            const r = g.next(v);
            if (r.done) break;
            v = yield r.value;
            seen.push(v ?? null);
          }
          finding("seen", `${name} saw ${JSON.stringify(seen)}`);
        },
      ]),
    );
    return { threads, symmetry: declare ? [group] : undefined };
  }) as Model<unknown>;
  const perms = permutations(p.copies);
  const outcome = (x: Execution): string => {
    const f = (final as NonNullable<typeof final>)();
    let best: string | null = null;
    for (const s of perms) {
      // s[t]: the index thread t is renamed to.
      const ren = (str: string) => str.replace(TOKEN, (all, d: string) => (Number(d) < p.copies ? `T${s[Number(d)]}` : all));
      // A deadlock lists its threads in index order: compare its edges as a set.
      const show = (fi: Execution["findings"][number]) =>
        fi.kind === "deadlock"
          ? `deadlock:${(["cycle", "blocked"] as const).map((k) => ((fi.data as Record<string, unknown[]>)[k] ?? []).map((e) => ren(JSON.stringify(e))).sort().join("+")).join("/")}`
          : ren(`${fi.kind}:${fi.thread ?? ""}:${fi.message}:${JSON.stringify(fi.data ?? null)}`);
      const fs = x.findings.map(show).sort();
      const k = fs.join(",");
      if (best === null || k < best) best = k;
    }
    return `${x.status}|${JSON.stringify(f.vars)}|${best}`;
  };
  return { model: m, outcome };
}

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  const out: number[][] = [];
  for (const p of permutations(n - 1)) for (let i = 0; i <= p.length; i++) out.push([...p.slice(0, i), n - 1, ...p.slice(i)]);
  return out;
}
