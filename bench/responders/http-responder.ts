/**
 * A minimal HTTP responder for the bench (child process): `GET /ok` → 200, `GET /unavailable` → 503, anything else
 * → 404; keep-alive off, so each probe is a fresh connection as suiteprobe and blackbox_exporter make them.
 */
import { createServer } from "node:http";

let requests = 0;
const server = createServer((req, res) => {
  requests++;
  const status = req.url === "/ok" ? 200 : req.url === "/unavailable" ? 503 : 404;
  res.writeHead(status, { "content-type": "text/plain", connection: "close" }).end(`${status}\n`);
});
server.keepAliveTimeout = 0;
server.listen(0, "127.0.0.1", 4096, () => {
  const address = server.address();
  process.send?.({ type: "ready", port: typeof address === "object" && address !== null ? address.port : 0 });
});
process.on("message", (message: { type: string }) => {
  if (message.type !== "stats") return;
  const usage = process.cpuUsage();
  process.send?.({ type: "stats", stats: { requests, cpuSeconds: (usage.user + usage.system) / 1e6 } });
});
process.on("disconnect", () => process.exit(0));
