import { describe, expect, it } from "vitest";
import { defaultWorld, type Simulator } from "../../lab/sim/index.js";
import { simulators } from "../helpers/sim.js";

const start = simulators();
const TOKEN = "xoxb-sim-bot-token";
const CHANNEL = "C0SIM0001";

async function slack(sim: Simulator, method: string, form: Record<string, string>, token: string | null = TOKEN) {
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  if (token !== null) headers["authorization"] = `Bearer ${token}`;
  const res = await fetch(`${sim.url}/api/${method}`, {
    method: "POST",
    headers,
    body: new URLSearchParams(form).toString(),
  });
  return { res, body: (await res.json()) as Record<string, unknown> };
}

describe("sim: Slack Web API", () => {
  it("posts, reads back with oldest/inclusive and cursor paging, deletes; x-slack-req-id on every reply", async () => {
    const sim = await start();
    const posted: string[] = [];
    for (const n of [1, 2, 3]) {
      const { res, body } = await slack(sim, "chat.postMessage", { channel: CHANNEL, text: `probe ${n}` });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-slack-req-id")).toMatch(/^[0-9a-f]{32}$/);
      expect(body).toMatchObject({ ok: true, channel: CHANNEL, message: { text: `probe ${n}`, bot_id: "B0SIMBOT1" } });
      posted.push(String(body["ts"]));
    }
    const exact = await slack(sim, "conversations.history", {
      channel: CHANNEL,
      oldest: posted[1]!,
      latest: posted[1]!,
      inclusive: "true",
      limit: "1",
    });
    expect(exact.body).toMatchObject({ ok: true, has_more: false, messages: [{ ts: posted[1], text: "probe 2" }] });
    const exclusive = await slack(sim, "conversations.history", { channel: CHANNEL, oldest: posted[1]! });
    expect((exclusive.body["messages"] as { ts: string }[]).map((m) => m.ts)).toEqual([posted[2]]);

    const page1 = await slack(sim, "conversations.history", { channel: CHANNEL, limit: "2" });
    expect((page1.body["messages"] as { ts: string }[]).map((m) => m.ts)).toEqual([posted[2], posted[1]]);
    expect(page1.body["has_more"]).toBe(true);
    const cursor = (page1.body["response_metadata"] as { next_cursor: string }).next_cursor;
    const page2 = await slack(sim, "conversations.history", { channel: CHANNEL, limit: "2", cursor });
    expect((page2.body["messages"] as { ts: string }[]).map((m) => m.ts)).toEqual([posted[0]]);

    const reply = await slack(sim, "chat.postMessage", { channel: CHANNEL, text: "in thread", thread_ts: posted[0]! });
    const thread = await slack(sim, "conversations.replies", { channel: CHANNEL, ts: posted[0]! });
    expect((thread.body["messages"] as { text: string }[]).map((m) => m.text)).toEqual(["probe 1", "in thread"]);

    for (const ts of [...posted, String(reply.body["ts"])]) {
      expect((await slack(sim, "chat.delete", { channel: CHANNEL, ts })).body).toEqual({
        ok: true,
        channel: CHANNEL,
        ts,
      });
    }
    expect(sim.leftovers().slackMessages).toEqual([]);
    expect((await slack(sim, "chat.delete", { channel: CHANNEL, ts: posted[0]! })).body).toEqual({
      ok: false,
      error: "message_not_found",
    });
  });

  it.each([
    ["no token", { channel: CHANNEL, text: "x" }, null, "not_authed"],
    ["a wrong token", { channel: CHANNEL, text: "x" }, "xoxb-wrong", "invalid_auth"],
    ["an unknown channel", { channel: "C0NOPE", text: "x" }, TOKEN, "channel_not_found"],
    ["a channel the bot is not in", { channel: "C0SIM0002", text: "x" }, TOKEN, "not_in_channel"],
  ])("answers %s with HTTP 200 ok:false %s", async (_name, form, token, error) => {
    const sim = await start();
    const { res, body } = await slack(sim, "chat.postMessage", form, token);
    expect(res.status).toBe(200);
    expect(body).toEqual({ ok: false, error });
  });

  it("restricted history tier: limit capped at 15, second call within a minute → 429 ratelimited + Retry-After", async () => {
    let now = Date.now();
    const world = defaultWorld();
    world.slack.isHistoryRestricted = true;
    const sim = await start({ world, now: () => now });
    for (let i = 0; i < 20; i++) await slack(sim, "chat.postMessage", { channel: CHANNEL, text: `m${i}` });
    const first = await slack(sim, "conversations.history", { channel: CHANNEL, limit: "100" });
    expect((first.body["messages"] as unknown[]).length).toBe(15);
    now += 10_000;
    const second = await slack(sim, "conversations.history", { channel: CHANNEL });
    expect(second.res.status).toBe(429);
    expect(second.res.headers.get("retry-after")).toBe("50");
    expect(second.body).toEqual({ ok: false, error: "ratelimited" });
    now += 50_000;
    expect((await slack(sim, "conversations.history", { channel: CHANNEL })).res.status).toBe(200);
  });

  it("faults: slack error, 429 ratelimited, message never visible", async () => {
    const sim = await start();
    sim.setFault("slack.postMessage", { type: "slack", error: "account_inactive", times: 1 });
    expect((await slack(sim, "chat.postMessage", { channel: CHANNEL, text: "x" })).body).toEqual({
      ok: false,
      error: "account_inactive",
    });
    sim.setFault("slack.history", { type: "status", status: 429, retryAfter: 7 });
    const limited = await slack(sim, "conversations.history", { channel: CHANNEL });
    expect(limited.res.status).toBe(429);
    expect(limited.res.headers.get("retry-after")).toBe("7");
    expect(limited.body).toEqual({ ok: false, error: "ratelimited" });
    sim.clearFaults();
    sim.setFault("slack.postMessage", { type: "neverVisible" });
    const ghost = await slack(sim, "chat.postMessage", { channel: CHANNEL, text: "ghost" });
    expect(ghost.body["ok"]).toBe(true);
    expect((await slack(sim, "conversations.history", { channel: CHANNEL })).body["messages"]).toEqual([]);
    expect(sim.leftovers().slackMessages).toHaveLength(1);
  });
});

describe("sim: Slack status API", () => {
  it("reports ok, then active with the incident, then ok after it is resolved", async () => {
    const sim = await start();
    const current = async () =>
      (await (await fetch(`${sim.url}/api/v2.0.0/current`)).json()) as Record<string, unknown>;
    expect(await current()).toMatchObject({ status: "ok", active_incidents: [] });
    sim.setSlackIncident({ id: 1201, title: "Trouble loading messages", type: "outage", services: ["Messaging"] });
    const active = await current();
    expect(active["status"]).toBe("active");
    expect(active["active_incidents"]).toEqual([
      expect.objectContaining({
        id: 1201,
        title: "Trouble loading messages",
        type: "outage",
        status: "active",
        services: ["Messaging"],
        notes: [],
      }),
    ]);
    expect(String(active["date_updated"])).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    sim.resolveSlackIncident(1201);
    expect((await current())["status"]).toBe("ok");
  });

  it("unreachable: a reset fault cuts the connection without a reply", async () => {
    const sim = await start();
    sim.setFault("slack.status", { type: "reset" });
    await expect(fetch(`${sim.url}/api/v2.0.0/current`)).rejects.toThrow(TypeError);
    expect(sim.requests("slack.status")[0]).toMatchObject({ status: 0, faults: ["reset"] });
  });
});
