import { afterEach, describe, expect, it } from "vitest";
import { httpKind } from "../../probes/http.js";
import { CredentialSet } from "../../src/runtime/credentials.js";
import { startHttpServer, startTestProxy } from "../helpers/http-server.js";
import { runProbe } from "../helpers/run-probe.js";
import { pino } from "pino";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

describe("http kind through a proxy", () => {
  it("uses the check's own proxy, and otherwise the one the agent's environment names", async () => {
    const server = await startHttpServer((_req, res) =>
      res.writeHead(200, { "content-type": "application/json" }).end("{}"),
    );
    const proxy = await startTestProxy();
    closers.push(
      () => server.close(),
      () => proxy.close(),
    );
    const target = new URL(`http://127.0.0.1:${server.port}/health`);

    const own = await runProbe(httpKind, { proxy: proxy.url }, undefined, 3000, { url: target });
    expect(own.error).toBeUndefined();
    expect(proxy.seen).toEqual([`GET ${target.href}`]);

    const environment = new CredentialSet(undefined, {
      logger: pino({ level: "silent" }),
      proxyFor: (url) => (url.host === target.host ? new URL(proxy.url) : undefined),
    });
    const fromEnv = await runProbe(httpKind, {}, undefined, 3000, { url: target, credentials: environment });
    expect(fromEnv.error).toBeUndefined();
    expect(proxy.seen).toHaveLength(2);

    const direct = await runProbe(httpKind, {}, undefined, 3000, { url: target });
    expect(direct.error).toBeUndefined();
    expect(proxy.seen).toHaveLength(2);
  });
});
