// Stage 6: mkdocs. Debian's /usr/bin/mkdocs, not `python3 -m mkdocs`: a pyenv python on PATH
// would shadow Debian's packages.

import { spawn } from "node:child_process";

export const MKDOCS = process.env.MKDOCS ?? "/usr/bin/mkdocs";

export function mkdocsBuild(root: string, extra: string[] = []): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    const p = spawn(MKDOCS, ["build", "--strict", "--quiet", "-f", "mkdocs.yml", ...extra], { cwd: root });
    let output = "";
    p.stdout.on("data", (d) => (output += d));
    p.stderr.on("data", (d) => (output += d));
    p.on("error", (e) => resolve({ ok: false, output: `could not start ${MKDOCS}: ${e.message}; install Debian's mkdocs (see README.md)` }));
    p.on("close", (code) => resolve({ ok: code === 0, output }));
  });
}
