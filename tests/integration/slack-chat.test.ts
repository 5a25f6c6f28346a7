import { afterEach, describe, expect, it } from "vitest";
import { defaultWorld, type Simulator } from "../../lab/sim/index.js";
import { slackChatKind } from "../../probes/slack-chat.js";
import type { SlackChatState } from "../../probes/wire/chat/slack-watcher.js";
import { checkHash } from "../../probes/wire/roundtrip/probe-id.js";
import { failureOf, heldForMs } from "../helpers/chat.js";
import { runProbe, type ProbeRun } from "../helpers/run-probe.js";
import { simulators } from "../helpers/sim.js";

const start = simulators();
const CHECK = "slack-test";
const CHANNEL = "C0SIM0001";
const TOKEN_ENV = "SP_TEST_SLACK_TOKEN";
// A sentinel: if it shows up in any error text, the token leaked.
const TOKEN = "xoxb-SENTINEL-slack-4f1c9e";

process.env[TOKEN_ENV] = TOKEN;
afterEach(() => {
  process.env[TOKEN_ENV] = TOKEN;
});

function world(over: Partial<ReturnType<typeof defaultWorld>["slack"]> = {}) {
  const base = defaultWorld();
  const [bot] = base.slack.bots;
  return { slack: { ...base.slack, bots: [{ ...bot!, token: TOKEN }], ...over } };
}

function settings(sim: Simulator, over: Record<string, unknown> = {}) {
  return {
    token: `\${env:${TOKEN_ENV}}`,
    channel: CHANNEL,
    slack_url: `${sim.url}/api`,
    max_delivery: "2s",
    read_interval: "1s",
    ...over,
  };
}

function state(): SlackChatState {
  return slackChatKind.createState!() as SlackChatState;
}

function slackRun(sim: Simulator, st: SlackChatState, over: Record<string, unknown> = {}): Promise<ProbeRun> {
  return runProbe(slackChatKind, settings(sim, over), undefined, 15_000, { check: CHECK, state: st });
}

/** Everything a run could print: the error's message chain and its facts. */
function printed(run: ProbeRun): string {
  const parts: string[] = [];
  let e: unknown = run.error;
  while (e instanceof Error) {
    parts.push(e.message, JSON.stringify((e as { facts?: unknown }).facts ?? null));
    e = e.cause;
  }
  return parts.join("\n");
}

async function postForeign(sim: Simulator, text: string): Promise<string> {
  const res = await fetch(`${sim.url}/api/chat.postMessage`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ channel: CHANNEL, text }),
  });
  return String(((await res.json()) as { ts: unknown }).ts);
}

describe("slack_chat against the simulator", () => {
  it("posts, reads back once, deletes: delivery time, phases, nothing left behind", async () => {
    const sim = await start({ world: world() });
    const run = await slackRun(sim, state());
    expect(run.error).toBeUndefined();
    expect(run.facts["chat_delivery_seconds"]).toBeGreaterThanOrEqual(0);
    expect(run.facts["chat_delivery_seconds"]).toBeLessThan(2);
    expect(run.facts).toMatchObject({ chat_late: 0, chat_uncertain_sends: 0, http_status_code: 200 });
    expect(Object.keys(run.phases)).toEqual(["post", "visible", "delete"]);
    expect(sim.count("slack.postMessage")).toBe(1);
    expect(sim.count("slack.history")).toBe(1);
    expect(sim.count("slack.delete")).toBe(1);
    expect(sim.leftovers().slackMessages).toEqual([]);
  });

  it("works within the 2025 history limit (1 read/min, ≤ 15 items) and holds back rather than being refused", async () => {
    const sim = await start({ world: world({ isHistoryRestricted: true }) });
    const st = state();
    const first = await runProbe(slackChatKind, settings(sim, { read_interval: "60s" }), undefined, 15_000, {
      check: CHECK,
      state: st,
    });
    expect(first.error).toBeUndefined();
    expect(sim.count("slack.history")).toBe(1);
    expect(sim.requests("slack.history").map((r) => r.status)).toEqual([200]);
    expect(sim.leftovers().slackMessages).toEqual([]);
    // A second run within the minute: the check's own budget holds it before anything is posted.
    const second = await runProbe(slackChatKind, settings(sim, { read_interval: "60s" }), undefined, 15_000, {
      check: CHECK,
      state: st,
    });
    expect(failureOf(second)).toMatchObject({ class: "throttled", phase: "visible" });
    expect(heldForMs(second, "scope")).toBeGreaterThan(0);
    expect(sim.count("slack.postMessage")).toBe(1);
    expect(sim.count("slack.history")).toBe(1);
  });

  it("a message that never becomes visible: class delivery in phase visible, and it is deleted all the same", async () => {
    const sim = await start({ world: world() });
    sim.setFault("slack.postMessage", { type: "neverVisible" });
    const run = await slackRun(sim, state());
    expect(failureOf(run)).toMatchObject({ class: "delivery", phase: "visible" });
    expect(run.facts["chat_delivery_seconds"]).toBeUndefined();
    expect(sim.count("slack.history")).toBeGreaterThanOrEqual(2);
    expect(sim.leftovers().slackMessages).toEqual([]);
  });

  it("delete refused: fails in phase delete; the next run deletes that leftover, and only its own", async () => {
    const sim = await start({ world: world() });
    const foreignTs = await postForeign(sim, "a person's message, sp-00000000-mwwcull9-16eb0d8a7fe0 quoted");
    const st = state();
    sim.setFault("slack.delete", { type: "slack", error: "cant_delete_message", times: 1 });
    const refused = await slackRun(sim, st);
    expect(failureOf(refused)).toMatchObject({ phase: "delete", code: "cant_delete_message" });
    const ours = sim.leftovers().slackMessages.filter((m) => m.text.includes(`sp-${checkHash(CHECK)}-`));
    expect(ours).toHaveLength(1);

    const next = await slackRun(sim, st);
    expect(next.error).toBeUndefined();
    expect(sim.leftovers().slackMessages).toEqual([
      { channel: CHANNEL, ts: foreignTs, text: expect.stringContaining("a person's message") as unknown },
    ]);
  });

  it("a post whose answer is lost is an uncertain send: watched until the deadline, then its own failure", async () => {
    const sim = await start({ world: world() });
    sim.setFault("slack.postMessage", { type: "reset", times: 1 });
    const run = await slackRun(sim, state());
    expect(run.facts["chat_uncertain_sends"]).toBe(1);
    expect(failureOf(run)).toMatchObject({ phase: "post", side: "network" });
    expect(sim.count("slack.history")).toBeGreaterThanOrEqual(1);
    expect(sim.leftovers().slackMessages).toEqual([]);
  });

  it("429 ratelimited with Retry-After: class throttled, phase post, the scope held for Retry-After", async () => {
    const sim = await start({ world: world() });
    sim.setFault("slack.postMessage", { type: "status", status: 429, retryAfter: 30 });
    const run = await slackRun(sim, state());
    expect(failureOf(run)).toMatchObject({
      class: "throttled",
      phase: "post",
      code: "ratelimited",
      retryAfterSeconds: 30,
    });
    expect(heldForMs(run, "scope")).toBe(30_000);
    expect(sim.leftovers().slackMessages).toEqual([]);
  });

  it.each([
    ["invalid_auth", "auth", "auth"],
    ["account_inactive", "auth", "auth"],
    ["not_in_channel", "post", undefined],
    ["channel_not_found", "post", undefined],
    ["fatal_error", "post", undefined],
  ])("Slack error %s: phase %s, code kept", async (error, phase, cls) => {
    const sim = await start({ world: world() });
    sim.setFault("slack.postMessage", { type: "slack", error });
    const run = await slackRun(sim, state());
    const failure = failureOf(run);
    expect(failure).toMatchObject({ phase, code: error });
    if (cls !== undefined) expect(failure.class).toBe(cls);
    expect(failure.class).not.toBe("unknown");
    expect(printed(run)).not.toContain(TOKEN);
  });

  it("real refusals from the simulator: a wrong token is auth, a channel the bot is not in is not_in_channel", async () => {
    const sim = await start({ world: world() });
    process.env[TOKEN_ENV] = "xoxb-not-a-known-token";
    const wrong = await slackRun(sim, state());
    expect(failureOf(wrong)).toMatchObject({ class: "auth", phase: "auth", code: "invalid_auth" });
    process.env[TOKEN_ENV] = TOKEN;
    const outside = await slackRun(sim, state(), { channel: "C0SIM0002" });
    expect(failureOf(outside)).toMatchObject({ phase: "post", code: "not_in_channel" });
    const missing = await slackRun(sim, state(), { channel: "C0NOSUCH1" });
    expect(failureOf(missing)).toMatchObject({ phase: "post", code: "channel_not_found" });
    for (const run of [wrong, outside, missing]) expect(printed(run)).not.toContain(TOKEN);
  });

  it("ratelimited on the read-back: throttled in phase visible, no more requests, the next run deletes the message", async () => {
    const sim = await start({ world: world() });
    const st = state();
    sim.setFault("slack.history", { type: "status", status: 429, retryAfter: 60, times: 1 });
    const run = await slackRun(sim, st);
    expect(failureOf(run)).toMatchObject({ class: "throttled", phase: "visible", retryAfterSeconds: 60 });
    expect(heldForMs(run, "scope")).toBe(60_000);
    expect(sim.count("slack.delete")).toBe(0);
    expect(sim.leftovers().slackMessages).toHaveLength(1);
    const next = await slackRun(sim, st);
    expect(next.error).toBeUndefined();
    expect(sim.leftovers().slackMessages).toEqual([]);
  });
});
