import { mkdtempSync, writeFileSync } from "node:fs";
import { request as httpRequest, type Server } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { gunzipSync } from "node:zlib";
import { join } from "node:path";
import bcrypt from "bcryptjs";
import { pino } from "pino";
import { Gauge, Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { Agent } from "../../src/agent.js";
import { loadConfigFile } from "../../src/config/load.js";
import { createHttpServer, listen, type HttpServerDeps } from "../../src/server/server.js";
import { defaultLimits } from "../../src/server/limits.js";
import { parseWebConfig, type WebConfig } from "../../src/server/web-config.js";
import { Metrics } from "../../src/metrics/metrics.js";
import { testCerts } from "../helpers/certs.js";
import { fakeKinds } from "../helpers/fake-kind.js";

const silent = pino({ level: "silent" });
const open: { server: Server; agent: Agent }[] = [];

afterEach(async () => {
  for (const { server, agent } of open.splice(0)) {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await agent.stop();
  }
});

interface Started {
  base: string;
  port: number;
  configPath: string;
  registry: Registry;
}

async function start(options: Partial<HttpServerDeps> = {}, tls = false): Promise<Started> {
  const configPath = join(mkdtempSync(join(tmpdir(), "suiteprobe-http-")), "config.yaml");
  writeFileSync(configPath, "checks:\n  - { name: a, kind: fake, target: 127.0.0.1, interval: 1h }\n");
  const registry = options.registry ?? new Registry();
  const metrics = new Metrics(registry, { version: "t", nodeVersion: process.version }, []);
  const agent = new Agent({ kinds: fakeKinds, configPath, logger: silent, metrics });
  const loaded = await loadConfigFile(configPath, fakeKinds);
  if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
  await agent.start(loaded.config);
  const server = createHttpServer({ agent, registry, logger: silent, version: "t", ...options });
  open.push({ server, agent });
  const address = await listen(server, "127.0.0.1", 0);
  return { base: `${tls ? "https" : "http"}://127.0.0.1:${address.port}`, port: address.port, configPath, registry };
}

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function call(
  url: string,
  options: { method?: string; headers?: Record<string, string>; ca?: string; cert?: string; key?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const send = url.startsWith("https:") ? httpsRequest : httpRequest;
    const req = send(
      url,
      {
        method: options.method ?? "GET",
        headers: options.headers,
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        agent: false,
      },
      (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

function web(yaml: string): WebConfig {
  const result = parseWebConfig(yaml, "web.yml");
  if (!result.ok) throw new Error(result.errors.join("\n"));
  return result.config;
}

/** Sends raw bytes and resolves with everything the server sent before closing (or after `waitMs`). */
function raw(port: number, bytes: string, waitMs = 2000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    socket.on("data", (d: Buffer) => (text += d.toString()));
    socket.on("close", () => resolve(text));
    socket.on("error", () => undefined);
    socket.write(bytes);
    setTimeout(() => {
      socket.destroy();
      resolve(text);
    }, waitMs);
  });
}

describe("reload endpoint", () => {
  it("is refused with 403 without --web.enable-lifecycle, as in Prometheus", async () => {
    const { base } = await start();
    const reply = await call(`${base}/-/reload`, { method: "POST" });
    expect(reply.status).toBe(403);
    expect(reply.body).toBe("Lifecycle API is not enabled.\n");
  });

  it("refuses cross-site POSTs and accepts a plain one", async () => {
    const { base, port } = await start({ isLifecycleEnabled: true });
    const post = (headers: Record<string, string>) => call(`${base}/-/reload`, { method: "POST", headers });
    expect((await post({ origin: "http://evil.example" })).status).toBe(403);
    expect((await post({ "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect((await post({ "content-type": "application/x-www-form-urlencoded" })).status).toBe(403);
    expect((await post({ "content-type": "text/plain;charset=UTF-8" })).status).toBe(403);
    expect((await post({ origin: `http://127.0.0.1:${port}` })).status).toBe(200);
    const plain = await post({});
    expect(plain.status).toBe(200);
    expect(plain.body).toBe("config reloaded\n");
  });

  it("a refused reload names problem paths but no env var or secret file", async () => {
    const { base, configPath } = await start({ isLifecycleEnabled: true });
    writeFileSync(
      configPath,
      `checks:
  - { name: a, kind: fake, target: 127.0.0.1, fake: { password: "\${env:SUITEPROBE_SENTINEL_ENV_NAME}" } }
  - { name: b, kind: fake, target: 127.0.0.1, fake: { password: "\${file:/run/sentinel-secret-path}" } }
`,
    );
    const reply = await call(`${base}/-/reload`, { method: "POST" });
    expect(reply.status).toBe(400);
    expect(reply.body).not.toContain("SUITEPROBE_SENTINEL_ENV_NAME");
    expect(reply.body).not.toContain("sentinel-secret-path");
    expect(reply.body).toBe(
      "config refused; the previous config keeps running: 2 problem(s) at checks[0].fake.password, " +
        "checks[1].fake.password. See the agent log for each problem.\n",
    );
  });
});

describe("requests", () => {
  it("HEAD /metrics answers 200 with the exposition content type and no body", async () => {
    const { base } = await start();
    const reply = await call(`${base}/metrics`, { method: "HEAD" });
    expect(reply.status).toBe(200);
    expect(reply.headers["content-type"]).toContain("text/plain");
    expect(reply.body).toBe("");
  });

  it("gzips /metrics when the scraper accepts it, and speaks OpenMetrics when asked as Prometheus asks", async () => {
    const { base } = await start();
    const get = (headers: Record<string, string>) =>
      new Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
        httpRequest(`${base}/metrics`, { headers, agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (d: Buffer) => chunks.push(d));
          res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        })
          .on("error", reject)
          .end();
      });
    const plain = await get({});
    const zipped = await get({ "accept-encoding": "gzip, deflate, br" });
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(zipped.headers["content-encoding"]).toBe("gzip");
    const unzipped = gunzipSync(zipped.body).toString();
    expect(unzipped).toContain("# TYPE suiteprobe_build_info gauge");
    expect(zipped.body.length).toBeLessThan(unzipped.length);
    expect((await get({ "accept-encoding": "gzip;q=0" })).headers["content-encoding"]).toBeUndefined();

    const prometheusAccept =
      "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4," +
      "text/plain;version=0.0.4;q=0.3,*/*;q=0.2";
    const open = await get({ accept: prometheusAccept });
    expect(open.headers["content-type"]).toBe("application/openmetrics-text; version=1.0.0; charset=utf-8");
    expect(open.body.toString()).toMatch(/# TYPE suiteprobe_runs_skipped counter\n[^]*# EOF\n$/);
    const text = await get({ accept: "text/plain;version=0.0.4" });
    expect(text.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(text.body.toString()).not.toContain("# EOF");
  });

  it("a malformed request URL is a 400, not a 500", async () => {
    const { port } = await start();
    const reply = await raw(port, "GET //[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
  });

  it("concurrent scrapes share one rendering", async () => {
    const registry = new Registry();
    let renders = 0;
    new Gauge({
      name: "test_slow_metric",
      help: "Takes 300 ms to collect.",
      registers: [registry],
      async collect() {
        renders++;
        await new Promise((r) => setTimeout(r, 300));
        this.set(1);
      },
    });
    const { base } = await start({ registry });
    const scrapeDone: number[] = [];
    const scrapes = Array.from({ length: 10 }, () =>
      call(`${base}/metrics`).then((reply) => {
        scrapeDone.push(performance.now());
        return reply;
      }),
    );
    // /healthz does not wait for the rendering in progress: it answers before any scrape does (by order, not by a
    // wall-clock bound, which a busy machine would stretch).
    const health = await call(`${base}/healthz`);
    const healthDone = performance.now();
    const replies = await Promise.all(scrapes);
    expect(health.status).toBe(200);
    expect(healthDone).toBeLessThan(Math.min(...scrapeDone));
    expect(replies.every((r) => r.status === 200 && r.body.includes("test_slow_metric 1"))).toBe(true);
    expect(renders).toBe(1);
  });
});

describe("connection limits", () => {
  it("closes connections over the cap at once and idle ones that send no headers", async () => {
    const limits = {
      ...defaultLimits(3),
      headersTimeoutMs: 500,
      requestTimeoutMs: 1000,
      idleTimeoutMs: 800,
      checkIntervalMs: 100,
    };
    const { port } = await start({ limits });
    const closedAt: (number | undefined)[] = [];
    const started = Date.now();
    const sockets: Socket[] = await Promise.all(
      Array.from(
        { length: 5 },
        (_, i) =>
          new Promise<Socket>((resolve) => {
            const socket = connect(port, "127.0.0.1", () => resolve(socket));
            socket.on("error", () => undefined);
            socket.on("close", () => (closedAt[i] = Date.now() - started));
            socket.resume();
          }),
      ),
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(closedAt.filter((t) => t !== undefined).length).toBe(2);
    await new Promise((r) => setTimeout(r, 1500));
    expect(closedAt.filter((t) => t !== undefined).length).toBe(5);
    for (const socket of sockets) socket.destroy();
  });
});

describe("web config: basic auth and TLS", () => {
  it("requires a configured user's password on every endpoint", async () => {
    const hash = bcrypt.hashSync("s3cret pass", 4);
    const { base } = await start({ web: web(`basic_auth_users:\n  alice: "${hash}"\n`), isLifecycleEnabled: true });
    const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
    for (const path of ["/metrics", "/healthz", "/readyz", "/", "/-/reload"]) {
      const method = path === "/-/reload" ? "POST" : "GET";
      const anonymous = await call(`${base}${path}`, { method });
      expect(anonymous.status, path).toBe(401);
      expect(anonymous.headers["www-authenticate"]).toContain("Basic");
      expect(
        (await call(`${base}${path}`, { method, headers: { authorization: basic("alice", "wrong") } })).status,
      ).toBe(401);
      expect(
        (await call(`${base}${path}`, { method, headers: { authorization: basic("bob", "s3cret pass") } })).status,
      ).toBe(401);
      expect(
        (await call(`${base}${path}`, { method, headers: { authorization: basic("alice", "s3cret pass") } })).status,
      ).toBe(200);
    }
  });

  it("serves HTTPS with the configured certificate and adds the configured headers", async () => {
    const certs = await testCerts();
    const { base } = await start(
      {
        web: web(
          `tls_server_config: { cert_file: ${certs.leaf.certPath}, key_file: ${certs.leaf.keyPath} }\n` +
            `http_server_config: { headers: { X-Frame-Options: deny, X-Content-Type-Options: nosniff } }\n`,
        ),
      },
      true,
    );
    const reply = await call(`${base}/healthz`, { ca: certs.ca.cert });
    expect(reply.status).toBe(200);
    expect(reply.headers["x-frame-options"]).toBe("deny");
    expect(reply.headers["x-content-type-options"]).toBe("nosniff");
    await expect(call(base.replace("https:", "http:") + "/healthz")).rejects.toThrow();
  });

  it("RequireAndVerifyClientCert refuses a client without a certificate", async () => {
    const certs = await testCerts();
    const { base } = await start(
      {
        web: web(
          `tls_server_config:\n  cert_file: ${certs.leaf.certPath}\n  key_file: ${certs.leaf.keyPath}\n` +
            `  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ${certs.selfSigned.certPath}\n`,
        ),
      },
      true,
    );
    await expect(call(`${base}/healthz`, { ca: certs.ca.cert })).rejects.toThrow();
    const reply = await call(`${base}/healthz`, {
      ca: certs.ca.cert,
      cert: certs.selfSigned.cert,
      key: certs.selfSigned.key,
    });
    expect(reply.status).toBe(200);
  });
});
