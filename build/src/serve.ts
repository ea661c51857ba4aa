// `npm run serve`: the built site on http://127.0.0.1:8000 (loopback only).

import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8", ".css": "text/css", ".js": "text/javascript", ".json": "application/json",
  ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon", ".woff2": "font/woff2", ".xml": "application/xml",
  ".txt": "text/plain; charset=utf-8", ".gz": "application/gzip",
};

/** Serves `dir` as static files; resolves with the server once it listens. */
export function staticServer(dir: string, port: number) {
  const server = createServer(async (req, res) => {
    const url = decodeURIComponent((req.url ?? "/").split("?")[0]!);
    // Lets a test harness wait for the server before the folder it serves exists.
    if (url === "/__ready") { res.writeHead(200).end("ok"); return; }
    let file = path.join(dir, path.normalize(url));
    if (!file.startsWith(dir)) { res.writeHead(403).end(); return; }
    try {
      if ((await stat(file)).isDirectory()) file = path.join(file, "index.html");
      const body = await readFile(file);
      res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  return new Promise<typeof server>((resolve, reject) => {
    server.once("error", reject); // EADDRINUSE, most often
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

export async function serve(siteDir: string): Promise<number> {
  const port = Number(process.env.PORT ?? 8000);
  try {
    await staticServer(siteDir, port);
  } catch (e) {
    console.error(`cannot serve on 127.0.0.1:${port}: ${(e as Error).message}; stop what holds the port, or run PORT=<another port> npm run serve`);
    return 1;
  }
  console.log(`serving ${siteDir} on http://127.0.0.1:${port}/ (run npm run build first; Ctrl-C stops)`);
  return new Promise<number>(() => {});
}
