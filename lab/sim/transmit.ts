// Writing replies onto the socket, including the transport faults: slow body, truncation, an endless-looking body.
import { once } from "node:events";
import type { ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { SimFault } from "./faults.js";
import type { SimFamily, SimReply } from "./http.js";

const GRAPH_CONTENT_TYPE =
  "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/** Serialises a reply and writes it, applying `truncate` and `slowBody` if they fired. */
export async function transmit(
  res: ServerResponse,
  reply: SimReply,
  family: SimFamily,
  faults: SimFault[],
  signal: AbortSignal,
): Promise<void> {
  const body =
    reply.body === undefined
      ? Buffer.alloc(0)
      : Buffer.isBuffer(reply.body)
        ? reply.body
        : Buffer.from(JSON.stringify(reply.body));
  const headers: Record<string, string> = { ...reply.headers };
  if (reply.body !== undefined && !Buffer.isBuffer(reply.body)) {
    headers["content-type"] = family === "graph" ? GRAPH_CONTENT_TYPE : "application/json; charset=utf-8";
  }
  const truncate = faults.find((f) => f.type === "truncate");
  const slow = faults.find((f) => f.type === "slowBody");
  if (truncate !== undefined && truncate.mode === "socket") {
    res.writeHead(reply.status, { ...headers, "content-length": String(body.length) });
    res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
    return;
  }
  const payload = truncate === undefined ? body : body.subarray(0, Math.floor(body.length / 2));
  res.writeHead(reply.status, { ...headers, "content-length": String(payload.length) });
  if (slow === undefined || reply.status === 204) {
    res.end(payload);
    return;
  }
  res.flushHeaders();
  const step = slow.chunkBytes ?? 16;
  for (let offset = 0; offset < payload.length; offset += step) {
    await sleep(slow.chunkDelayMs, undefined, { signal });
    if (res.destroyed) return;
    res.write(payload.subarray(offset, offset + step));
  }
  res.end();
}

const FILLER = Buffer.alloc(64 * 1024, "a");

/** Streams `bytes` bytes of a JSON-looking body, waiting for drain so memory stays at one chunk. */
export async function streamHugeBody(
  res: ServerResponse,
  fault: Extract<SimFault, { type: "hugeBody" }>,
  signal: AbortSignal,
): Promise<void> {
  const head = Buffer.from('{"value":"');
  const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" };
  if (fault.declareLength === true) headers["content-length"] = String(Math.max(fault.bytes, head.length + 2));
  res.writeHead(200, headers);
  res.write(head);
  let left = Math.max(fault.bytes - head.length - 2, 0);
  while (left > 0 && !res.destroyed && !signal.aborted) {
    const chunk = left >= FILLER.length ? FILLER : FILLER.subarray(0, left);
    left -= chunk.length;
    if (!res.write(chunk)) {
      // One controller per wait, aborted afterwards, so the losing listener does not pile up across 800 waits.
      const local = new AbortController();
      const both = AbortSignal.any([signal, local.signal]);
      await Promise.race([once(res, "drain", { signal: both }), once(res, "close", { signal: both })]).catch(
        () => undefined,
      );
      local.abort();
    }
  }
  if (!res.destroyed) res.end('"}');
}
