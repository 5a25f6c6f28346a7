import { Agent, fetch as undiciFetch } from "undici";
import { describe, expect, it } from "vitest";
import { testCerts } from "../helpers/certs.js";
import { appToken, delegatedToken, graph, simulators } from "../helpers/sim.js";
import type { Simulator } from "../../lab/sim/index.js";

const start = simulators();
const HEALTH = "/v1.0/admin/serviceAnnouncement/healthOverviews";

async function health(sim: Simulator): Promise<Response> {
  return graph(sim, await appToken(sim), "GET", HEALTH);
}

describe("sim: faults", () => {
  it("429 with and without Retry-After, 503 serviceNotAvailable, 504 UnknownError — in Graph's error shape", async () => {
    const sim = await start();
    const token = await appToken(sim);
    const cases = [
      [{ type: "status", status: 429, retryAfter: 12 }, 429, "TooManyRequests", "12"],
      [{ type: "status", status: 429 }, 429, "TooManyRequests", null],
      [{ type: "status", status: 503, code: "serviceNotAvailable" }, 503, "serviceNotAvailable", null],
      [{ type: "status", status: 504 }, 504, "UnknownError", null],
    ] as const;
    for (const [fault, status, code, retryAfter] of cases) {
      sim.setFault("graph.health.overviews", fault);
      const res = await graph(sim, token, "GET", HEALTH);
      expect(res.status).toBe(status);
      expect(res.headers.get("retry-after")).toBe(retryAfter);
      const body = (await res.json()) as { error: { code: string; innerError: Record<string, string> } };
      expect(body.error.code).toBe(code);
      expect(body.error.innerError["request-id"]).toBe(res.headers.get("request-id"));
      expect(typeof body.error.innerError["date"]).toBe("string");
    }
  });

  it("expiredToken answers 401 InvalidAuthenticationToken for a token that is otherwise valid", async () => {
    const sim = await start();
    const token = await appToken(sim);
    sim.setFault("graph.health.overviews", { type: "expiredToken" });
    const res = await graph(sim, token, "GET", HEALTH);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: "InvalidAuthenticationToken" } });
  });

  it("delay holds the first byte back; slowBody trickles the body", async () => {
    const sim = await start();
    const token = await appToken(sim);
    sim.setFault("graph.health.overviews", { type: "delay", ms: 300 });
    let started = performance.now();
    const delayed = await graph(sim, token, "GET", HEALTH);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(delayed.status).toBe(200);
    sim.setFault("graph.health.overviews", { type: "slowBody", chunkDelayMs: 20, chunkBytes: 100 });
    started = performance.now();
    const slow = await graph(sim, token, "GET", HEALTH);
    const headersAt = performance.now() - started;
    const text = await slow.text();
    const bodyAt = performance.now() - started;
    expect(headersAt).toBeLessThan(200);
    expect(bodyAt).toBeGreaterThanOrEqual(Math.floor(text.length / 100) * 20 - 10);
    expect(JSON.parse(text)).toHaveProperty("value");
  });

  it("truncate: cut JSON in a complete reply, or a socket cut short of Content-Length", async () => {
    const sim = await start();
    const token = await appToken(sim);
    sim.setFault("graph.health.overviews", { type: "truncate" });
    const cut = await graph(sim, token, "GET", HEALTH);
    expect(cut.status).toBe(200);
    await expect(cut.json()).rejects.toThrow(SyntaxError);
    sim.setFault("graph.health.overviews", { type: "truncate", mode: "socket" });
    const short = await graph(sim, token, "GET", HEALTH);
    await expect(short.text()).rejects.toThrow();
  });

  it("hugeBody streams 50 MB without Content-Length; a reader that stops early does not stall the server", async () => {
    const sim = await start();
    const token = await appToken(sim);
    const bytes = 50 * 1024 * 1024;
    sim.setFault("graph.search", { type: "hugeBody", bytes });
    const res = await graph(sim, token, "POST", "/v1.0/search/query", {});
    expect(res.headers.get("content-length")).toBeNull();
    let total = 0;
    for await (const chunk of res.body!) total += (chunk as Uint8Array).length;
    expect(total).toBe(bytes);
    const early = await graph(sim, token, "POST", "/v1.0/search/query", {});
    const reader = early.body!.getReader();
    await reader.read();
    await reader.cancel();
    expect((await health(sim)).status).toBe(200);
  });

  it("redirectLoop points back at itself until the client gives up", async () => {
    const sim = await start();
    sim.setFault("slack.status", { type: "redirectLoop" });
    const manual = await fetch(`${sim.url}/api/v2.0.0/current`, { redirect: "manual" });
    expect(manual.status).toBe(302);
    expect(manual.headers.get("location")).toBe(`${sim.url}/api/v2.0.0/current`);
    await expect(fetch(`${sim.url}/api/v2.0.0/current`)).rejects.toThrow(TypeError);
    expect(sim.count("slack.status")).toBeGreaterThan(20);
  });

  it("probability is deterministic per seed; times lapses after N requests", async () => {
    const statuses = async (seed: number) => {
      const sim = await start({ seed });
      sim.setFault("slack.status", { type: "status", status: 503, probability: 0.3 });
      const out: number[] = [];
      for (let i = 0; i < 40; i++) out.push((await fetch(`${sim.url}/api/v2.0.0/current`)).status);
      return out;
    };
    const a = await statuses(7);
    expect(await statuses(7)).toEqual(a);
    const failures = a.filter((s) => s === 503).length;
    expect(failures).toBeGreaterThan(2);
    expect(failures).toBeLessThan(25);

    const sim = await start();
    sim.setFault("slack.status", { type: "status", status: 503, times: 2 });
    const seq = [];
    for (let i = 0; i < 4; i++) seq.push((await fetch(`${sim.url}/api/v2.0.0/current`)).status);
    expect(seq).toEqual([503, 503, 200, 200]);
    expect(sim.faults()).toEqual({});
  });

  it("the control endpoint sets, shows and clears faults, and rejects a malformed fault with its path", async () => {
    const sim = await start();
    const post = (path: string, body: unknown) =>
      fetch(`${sim.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect(
      (await post("/_sim/faults", { endpoint: "slack.status", fault: { type: "status", status: 503 } })).status,
    ).toBe(204);
    expect((await fetch(`${sim.url}/api/v2.0.0/current`)).status).toBe(503);
    const state = (await (await fetch(`${sim.url}/_sim/state`)).json()) as {
      faults: Record<string, unknown>;
      counts: Record<string, number>;
    };
    expect(state.faults["slack.status"]).toEqual([{ type: "status", status: 503 }]);
    expect(state.counts["slack.status"]).toBe(1);
    const bad = await post("/_sim/faults", { endpoint: "graph.nope", fault: { type: "status", status: 99 } });
    expect(bad.status).toBe(400);
    const problems = ((await bad.json()) as { problems: string[] }).problems;
    expect(problems.some((p) => p.startsWith("endpoint:"))).toBe(true);
    expect(problems.some((p) => p.startsWith("fault"))).toBe(true);
    expect((await fetch(`${sim.url}/_sim/faults`, { method: "DELETE" })).status).toBe(204);
    expect((await fetch(`${sim.url}/api/v2.0.0/current`)).status).toBe(200);
    expect((await post("/_sim/health", { service: "Microsoft Teams", status: "serviceInterruption" })).status).toBe(
      204,
    );
    expect((await post("/_sim/health", { service: "Microsoft Teams", status: "Down" })).status).toBe(400);
    const overviews = (await (await health(sim)).json()) as { value: { id: string; status: string }[] };
    expect(overviews.value.find((s) => s.id === "microsoftteams")?.status).toBe("serviceInterruption");
  });

  it("keeps state bounded: stores evict the oldest, the request log keeps the last N but counts all", async () => {
    const sim = await start({ maxItems: 5, requestLogSize: 3 });
    const token = await delegatedToken(sim);
    const chat = `/v1.0/chats/${encodeURIComponent("19:suiteprobe-probe@thread.v2")}/messages`;
    for (let i = 0; i < 8; i++) await graph(sim, token, "POST", chat, { body: { content: `m${i}` } });
    const left = sim.leftovers().chatMessages.map((m) => (m["body"] as { content: string }).content);
    expect(left).toEqual(["m3", "m4", "m5", "m6", "m7"]);
    expect(sim.requests()).toHaveLength(3);
    expect(sim.count("graph.chat.post")).toBe(8);
    expect(sim.count("entra.token")).toBe(1);
  });

  it("serves HTTPS with a given key and certificate", async () => {
    const certs = await testCerts();
    const sim = await start({ tls: { key: certs.leaf.key, cert: certs.leaf.cert } });
    expect(sim.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const dispatcher = new Agent({ connect: { ca: certs.ca.cert } });
    const res = await undiciFetch(`${sim.url}/api/v2.0.0/current`, { dispatcher });
    expect(await res.json()).toMatchObject({ status: "ok" });
    await dispatcher.close();
    await expect(fetch(`${sim.url}/api/v2.0.0/current`)).rejects.toThrow(TypeError);
  });
});
