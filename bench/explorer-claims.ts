// Claim specs importable by module path, for exploreParallel (bench and tests).
import type { ClaimSpec } from "../lib/explorer/index.ts";
import { counter, filesystem, indexer, lastzero } from "./explorer-models.ts";

export function indexerClaim(n: number, strategy: "dfs" | "dpor" = "dpor", executions = 10_000_000, fields = false): ClaimSpec {
  return { title: `indexer(${n}) fills 4n slots`, model: indexer(n), predicate: (e) => e.final.filled !== 4 * n, expect: "Never", search: fields ? { strategy, fields } : { strategy }, budget: { executions, steps: 1_000_000_000 } };
}
export function filesystemClaim(n: number, strategy: "dfs" | "dpor" = "dpor"): ClaimSpec {
  return { title: `filesystem(${n}) gives every inode a block`, model: filesystem(n), predicate: (e) => e.final.inodes.slice(0, n).some((b: number) => b === 0), expect: "Never", search: { strategy }, budget: { executions: 10_000_000, steps: 1_000_000_000 } };
}
export function counterClaim(n: number, locked: boolean, strategy: "dfs" | "dpor" = "dfs"): ClaimSpec {
  return { title: `counter(${n}) ${locked ? "locked" : "racy"}`, model: counter(n, locked), predicate: (e) => e.final.x !== n, expect: locked ? "Never" : "Sometimes", search: { strategy }, budget: { executions: 10_000_000, steps: 1_000_000_000 } };
}
export function lastzeroClaim(n: number, strategy: "dfs" | "dpor" = "dpor", spawned = false): ClaimSpec {
  return { title: `lastzero(${n}) finds a zero`, model: lastzero(n, spawned), predicate: (e) => e.final.found < 0, expect: "Never", search: { strategy }, budget: { executions: 10_000_000, steps: 1_000_000_000 } };
}
