import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultWorld, type Simulator } from "../../lab/sim/index.js";
import { runCli, writeConfig } from "../helpers/cli.js";
import { SIM_APP, SIM_TENANT, simulators } from "../helpers/sim.js";

const start = simulators();
// Sentinels: none may appear anywhere in the CLI's output.
const BOT = "xoxb-SENTINEL-cli-b0t";
const REFRESH = "sim-refresh-SENTINEL-cli";
const SECRET = "sim-secret-SENTINEL-cli";
const env = { SP_CLI_SLACK: BOT, SP_CLI_SECRET: SECRET };

function world() {
  const base = defaultWorld();
  return {
    apps: base.apps.map((a) => ({ ...a, secret: SECRET })),
    refreshTokens: base.refreshTokens.map((r) => ({ ...r, token: REFRESH })),
    slack: { ...base.slack, bots: base.slack.bots.map((b) => ({ ...b, token: BOT })) },
  };
}

function config(sim: Simulator): string {
  const tokenFile = join(mkdtempSync(join(tmpdir(), "sp-chat-cli-")), "probe-user.token");
  writeFileSync(tokenFile, REFRESH, { mode: 0o600 });
  const entra = `tenant: ${SIM_TENANT}, client_id: ${SIM_APP.clientId}, authority: "${sim.url}"`;
  return writeConfig(`
credentials:
  probe-user: { type: entra_refresh_token, ${entra}, refresh_token_file: ${tokenFile} }
  app: { type: entra_client_secret, ${entra}, client_secret: "\${env:SP_CLI_SECRET}" }
checks:
  - name: teams
    kind: teams_chat
    timeout: 20s
    teams_chat:
      credential: probe-user
      chat_id: "19:suiteprobe-probe@thread.v2"
      graph_url: "${sim.url}"
      max_delivery: 5s
      poll_interval: 200ms
      create: chat
      create_credential: app
      create_users: [probe-user-id, peer-user-id]
  - name: slack
    kind: slack_chat
    timeout: 20s
    slack_chat: { token: "\${env:SP_CLI_SLACK}", channel: C0SIM0001, slack_url: "${sim.url}/api", max_delivery: 5s }
`);
}

function lines(stdout: string): Record<string, unknown>[] {
  return stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function expectNoSecrets(output: string): void {
  for (const secret of [BOT, REFRESH, SECRET]) {
    for (const form of [secret, Buffer.from(secret).toString("base64"), JSON.stringify(secret)]) {
      expect(output).not.toContain(form);
    }
  }
}

describe("suiteprobe once with teams_chat and slack_chat against the simulator", () => {
  it("healthy: both succeed with delivery times, nothing left behind, no secret in the output", async () => {
    const sim = await start({ world: world() });
    const result = await runCli(["once", "--config", config(sim), "--json"], { env, timeoutMs: 30_000 });
    expect(result.stderr).not.toContain("Error");
    const out = lines(result.stdout);
    expect(out.map((l) => [l["check"], l["kind"], l["success"]])).toEqual([
      ["teams", "teams_chat", true],
      ["slack", "slack_chat", true],
    ]);
    for (const line of out) {
      expect((line["facts"] as Record<string, number>)["chat_delivery_seconds"]).toBeGreaterThanOrEqual(0);
    }
    expect(result.code).toBe(0);
    expect(sim.leftovers()).toEqual({ files: [], chatMessages: [], chats: [], meetings: [], slackMessages: [] });
    expectNoSecrets(result.stdout + result.stderr);
  });

  it("the 22 January pattern: Teams posting works, chat creation fails; Slack is rate limited", async () => {
    const sim = await start({ world: world() });
    sim.setFault("graph.chat.create", { type: "status", status: 503, code: "serviceNotAvailable" });
    sim.setFault("slack.postMessage", { type: "status", status: 429, retryAfter: 30 });
    const result = await runCli(["once", "--config", config(sim), "--json"], { env, timeoutMs: 30_000 });
    expect(result.code).toBe(1);
    const [teams, slack] = lines(result.stdout);
    expect(teams).toMatchObject({ check: "teams", success: false, class: "unavailable", phase: "create", code: "503" });
    expect((teams?.["facts"] as Record<string, number>)["chat_delivery_seconds"]).toBeGreaterThanOrEqual(0);
    expect(slack).toMatchObject({
      check: "slack",
      success: false,
      class: "throttled",
      phase: "post",
      code: "ratelimited",
    });
    expect(sim.leftovers()).toEqual({ files: [], chatMessages: [], chats: [], meetings: [], slackMessages: [] });
    expectNoSecrets(result.stdout + result.stderr);
  });
});
