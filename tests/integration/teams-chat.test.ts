import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { defaultWorld, type Simulator } from "../../lab/sim/index.js";
import { PROBE_KINDS } from "../../probes/index.js";
import { teamsChatKind, type TeamsChatState } from "../../probes/teams-chat.js";
import { HTTP_CREDENTIALS } from "../../probes/wire/entra/credential.js";
import { credentialSchema } from "../../probes/wire/entra/credentials-schema.js";
import { checkHash } from "../../probes/wire/roundtrip/probe-id.js";
import { parseConfigText } from "../../src/config/load.js";
import { CredentialSet } from "../../src/runtime/credentials.js";
import { failureOf, heldForMs } from "../helpers/chat.js";
import { runProbe, type ProbeRun } from "../helpers/run-probe.js";
import { delegatedToken, graph, SIM_APP, SIM_TENANT, simulators } from "../helpers/sim.js";

const start = simulators();
const CHECK = "teams-test";
const CHAT = "19:suiteprobe-probe@thread.v2";
// Sentinels: if either shows up in any error text, a secret leaked.
const REFRESH = "sim-refresh-SENTINEL-7d2a";
const SECRET = "sim-secret-SENTINEL-91be";
const SECRET_ENV = "SP_TEST_TEAMS_APP_SECRET";
process.env[SECRET_ENV] = SECRET;

function world() {
  const base = defaultWorld();
  return {
    apps: base.apps.map((a) => ({ ...a, secret: SECRET })),
    refreshTokens: [
      ...base.refreshTokens.map((r) => ({ ...r, token: REFRESH })),
      { token: "sim-refresh-peer", clientId: SIM_APP.clientId, userId: "peer-user-id" },
    ],
  };
}

/** Credentials as the agent builds them: the delegated probe user (refresh token in a file) and the app. */
function credentials(sim: Simulator, refreshToken = REFRESH): { set: CredentialSet; tokenFile: string } {
  const tokenFile = join(mkdtempSync(join(tmpdir(), "sp-teams-")), "probe-user.token");
  writeFileSync(tokenFile, refreshToken, { mode: 0o600 });
  const common = { tenant: SIM_TENANT, client_id: SIM_APP.clientId, authority: sim.url };
  const set = new CredentialSet(HTTP_CREDENTIALS, { logger: pino({ level: "silent" }), proxyFor: () => undefined });
  const entries: [string, unknown][] = [
    ["probe-user", { type: "entra_refresh_token", ...common, refresh_token_file: tokenFile }],
    ["app", { type: "entra_client_secret", ...common, client_secret: `\${env:${SECRET_ENV}}` }],
  ];
  set.apply({
    credentials: new Map(entries.map(([n, s]) => [n, { settings: credentialSchema.parse(s), fingerprint: n }])),
  });
  return { set, tokenFile };
}

function settings(sim: Simulator, over: Record<string, unknown> = {}) {
  return {
    credential: "probe-user",
    chat_id: CHAT,
    graph_url: sim.url,
    max_delivery: "1500ms",
    poll_interval: "200ms",
    ...over,
  };
}

interface Harness {
  sim: Simulator;
  run(over?: Record<string, unknown>): Promise<ProbeRun>;
  state: TeamsChatState;
  tokenFile: string;
}

async function harness(): Promise<Harness> {
  const sim = await start({ world: world() });
  const { set, tokenFile } = credentials(sim);
  const state = teamsChatKind.createState!() as TeamsChatState;
  return {
    sim,
    state,
    tokenFile,
    run: (over = {}) =>
      runProbe(teamsChatKind, settings(sim, over), undefined, 15_000, { check: CHECK, state, credentials: set }),
  };
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

const ours = (sim: Simulator) =>
  sim.leftovers().chatMessages.filter((m) => JSON.stringify(m).includes(`sp-${checkHash(CHECK)}-`));

describe("teams_chat against the simulator", () => {
  it("signs in, posts, lists until visible, soft-deletes: delivery time, phases, nothing left behind", async () => {
    const h = await harness();
    const run = await h.run();
    expect(run.error).toBeUndefined();
    expect(run.facts["chat_delivery_seconds"]).toBeGreaterThanOrEqual(0);
    expect(run.facts["chat_delivery_seconds"]).toBeLessThan(1.5);
    expect(run.facts).toMatchObject({ chat_late: 0, chat_uncertain_sends: 0, http_status_code: 204 });
    expect(Object.keys(run.phases)).toEqual(["auth", "list", "post", "visible", "delete"]);
    expect(h.sim.count("entra.token")).toBe(1);
    expect(h.sim.count("graph.chat.softDelete")).toBe(1);
    expect(h.sim.leftovers().chatMessages).toEqual([]);
    // The rotated refresh token went to the file, not anywhere else.
    expect(readFileSync(h.tokenFile, "utf8").trim()).not.toBe(REFRESH);
  });

  it("a message that is never listed: class delivery in phase visible, and it is deleted all the same", async () => {
    const h = await harness();
    h.sim.setFault("graph.chat.post", { type: "neverVisible" });
    const run = await h.run();
    expect(failureOf(run)).toMatchObject({ class: "delivery", phase: "visible" });
    expect(h.sim.leftovers().chatMessages).toEqual([]);
  });

  it("softDelete refused: fails in phase delete; the next run deletes that leftover, and only its own", async () => {
    const h = await harness();
    const token = await delegatedToken(h.sim, "sim-refresh-peer");
    // A person's message quoting another check's probe id: never ours to delete.
    await graph(h.sim, token, "POST", `/v1.0/chats/${CHAT}/messages`, {
      body: { content: "look: sp-00000000-mwwcull9-16eb0d8a7fe0" },
    });
    h.sim.setFault("graph.chat.softDelete", { type: "status", status: 403, code: "accessDenied", times: 1 });
    const refused = await h.run();
    expect(failureOf(refused)).toMatchObject({ class: "permission", phase: "delete" });
    expect(ours(h.sim)).toHaveLength(1);

    const next = await h.run();
    expect(next.error).toBeUndefined();
    expect(ours(h.sim)).toEqual([]);
    expect(h.sim.leftovers().chatMessages.map((m) => (m["body"] as { content: string }).content)).toEqual([
      "look: sp-00000000-mwwcull9-16eb0d8a7fe0",
    ]);
  });

  it("429 with Retry-After on the post: class throttled, phase post, the scope held for Retry-After", async () => {
    const h = await harness();
    h.sim.setFault("graph.chat.post", { type: "status", status: 429, retryAfter: 45 });
    const run = await h.run();
    expect(failureOf(run)).toMatchObject({ class: "throttled", phase: "post", retryAfterSeconds: 45 });
    expect(heldForMs(run, "probe-user@graph")).toBe(45_000);
    expect(teamsChatKind.throttleScope?.(teamsChatKind.settingsSchema.parse(settings(h.sim)), undefined as never)).toBe(
      `probe-user@${new URL(h.sim.url).host}`,
    );
  });

  it("an expired access token is class auth (in the step that met it); a refused refresh token is auth in phase auth", async () => {
    const h = await harness();
    h.sim.setFault("graph.chat.post", { type: "expiredToken", times: 1 });
    const expired = await h.run();
    expect(failureOf(expired)).toMatchObject({ class: "auth", phase: "post" });
    expect(printed(expired)).not.toContain(REFRESH);

    const sim = h.sim;
    const { set } = credentials(sim, "not-a-refresh-token");
    const refused = await runProbe(teamsChatKind, settings(sim), undefined, 15_000, { check: CHECK, credentials: set });
    expect(failureOf(refused)).toMatchObject({ class: "auth", phase: "auth", code: "AADSTS70000" });
    expect(printed(refused)).not.toContain(SECRET);
  });

  it("refuses an app-only credential: at config load, and (if it got through) as class config in phase auth", async () => {
    const h = await harness();
    const run = await h.run({ credential: "app" });
    expect(failureOf(run)).toMatchObject({ class: "config", phase: "auth" });
    expect(h.sim.count("graph.chat.post")).toBe(0);
    const loaded = parseConfigText(
      `credentials:
  app: { type: entra_client_secret, tenant: ${SIM_TENANT}, client_id: ${SIM_APP.clientId}, client_secret: "\${env:${SECRET_ENV}}" }
checks:
  - name: teams
    kind: teams_chat
    timeout: 60s
    teams_chat: { credential: app, chat_id: "${CHAT}" }
`,
      PROBE_KINDS,
    );
    expect(loaded).toEqual({
      ok: false,
      errors: [
        'checks[0].teams_chat.credential: credential "app" is of type entra_client_secret; teams_chat needs ' +
          "entra_refresh_token (Graph allows posting and soft-deleting chat messages only with a delegated token)",
      ],
    });
  });

  it("runs at most every 5 minutes: an inherited interval is raised, an explicit shorter one refused", () => {
    const yaml = (interval: string) => `credentials:
  u: { type: entra_refresh_token, tenant: ${SIM_TENANT}, client_id: ${SIM_APP.clientId}, refresh_token_file: /x }
checks:
  - name: teams
    kind: teams_chat
    ${interval}
    timeout: 45s
    teams_chat: { credential: u, chat_id: "${CHAT}" }
`;
    const inherited = parseConfigText(yaml(""), PROBE_KINDS);
    expect(inherited.ok && inherited.config.checks[0]?.plan).toEqual({ type: "interval", everyMs: 300_000 });
    expect(parseConfigText(yaml("interval: 1m"), PROBE_KINDS)).toEqual({
      ok: false,
      errors: [
        "checks[0].interval: runs every 60s, too often for teams_chat: at least 300s (Microsoft's terms forbid using Teams as a log)",
      ],
    });
  });

  describe("create", () => {
    const createChat = { create: "chat", create_credential: "app", create_users: ["probe-user-id", "peer-user-id"] };

    it("create: chat creates and deletes a group chat after the round trip", async () => {
      const h = await harness();
      const run = await h.run(createChat);
      expect(run.error).toBeUndefined();
      expect(Object.keys(run.phases)).toEqual(["auth", "list", "post", "visible", "delete", "create", "create_delete"]);
      expect(h.sim.count("graph.chat.create")).toBe(1);
      expect(h.sim.count("graph.chat.delete")).toBe(1);
      expect(h.sim.leftovers()).toMatchObject({ chats: [], chatMessages: [] });
    });

    it("the 22 January pattern: posting works, chat creation fails → failure in phase create, delivery still measured", async () => {
      const h = await harness();
      h.sim.setFault("graph.chat.create", { type: "status", status: 503, code: "serviceNotAvailable" });
      const run = await h.run(createChat);
      expect(failureOf(run)).toMatchObject({ class: "unavailable", phase: "create", code: "503" });
      expect(run.facts["chat_delivery_seconds"]).toBeGreaterThanOrEqual(0);
      expect(h.sim.leftovers()).toMatchObject({ chats: [], chatMessages: [] });
      expect(printed(run)).not.toContain(SECRET);
    });

    it("a created chat whose delete failed is deleted first by the next run", async () => {
      const h = await harness();
      h.sim.setFault("graph.chat.delete", { type: "status", status: 504, times: 1 });
      const failed = await h.run(createChat);
      expect(failureOf(failed)).toMatchObject({ class: "unavailable", phase: "create_delete" });
      expect(h.sim.leftovers().chats).toHaveLength(1);
      const next = await h.run(createChat);
      expect(next.error).toBeUndefined();
      expect(h.sim.count("graph.chat.delete")).toBe(3);
      expect(h.sim.leftovers().chats).toEqual([]);
    });

    it("create: meeting creates and deletes an online meeting of the organizer", async () => {
      const h = await harness();
      const run = await h.run({ create: "meeting", create_credential: "app", create_users: ["probe-user-id"] });
      expect(run.error).toBeUndefined();
      expect(h.sim.count("graph.meeting.create")).toBe(1);
      expect(h.sim.count("graph.meeting.delete")).toBe(1);
      expect(h.sim.leftovers().meetings).toEqual([]);
    });

    it("create with the delegated credential is refused at load", () => {
      const loaded = parseConfigText(
        `credentials:
  u: { type: entra_refresh_token, tenant: ${SIM_TENANT}, client_id: ${SIM_APP.clientId}, refresh_token_file: /x }
checks:
  - name: teams
    kind: teams_chat
    timeout: 60s
    teams_chat: { credential: u, chat_id: "${CHAT}", create: chat, create_credential: u, create_users: [a, b] }
`,
        PROBE_KINDS,
      );
      expect(loaded.ok).toBe(false);
      expect(!loaded.ok && loaded.errors).toEqual([
        'checks[0].teams_chat.create_credential: credential "u" is of type entra_refresh_token; teams_chat needs ' +
          "entra_client_secret or entra_certificate (chats and meetings are created and deleted with application permissions)",
      ]);
    });
  });
});
