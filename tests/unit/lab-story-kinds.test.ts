import { describe, expect, it } from "vitest";
import { storyTimeKinds } from "../../lab/story-kinds.js";
import { PROBE_KINDS } from "../../probes/index.js";
import { parseConfigText } from "../../src/config/load.js";

const CREDENTIALS = `credentials:
  user: { type: entra_refresh_token, tenant: contoso.onmicrosoft.com, client_id: 11111111-1111-4111-8111-111111111111, refresh_token_file: /x }
`;
const teams = (interval: string, timeout: string) => `${CREDENTIALS}defaults: { interval: 2s }
checks:
  - name: chat
    kind: teams_chat
    ${interval}
    timeout: ${timeout}
    teams_chat: { credential: user, chat_id: "19:probe@thread.v2", max_delivery: 1s, poll_interval: 100ms }
`;

describe("the lab's story-time kinds", () => {
  it("a Teams check every 5 s with a 3 s timeout is refused for real and accepted in the lab at speed 60", () => {
    const real = parseConfigText(teams("interval: 5s", "3s"), PROBE_KINDS);
    expect(!real.ok && real.errors).toEqual([
      "checks[0].interval: runs every 5s, too often for teams_chat: at least 300s (Microsoft's terms forbid using Teams as a log)",
      "checks[0].timeout: 3s is too short for teams_chat: at least 16s (max_delivery + 15s)",
    ]);
    const lab = parseConfigText(teams("interval: 5s", "3s"), storyTimeKinds(PROBE_KINDS, 60));
    expect(lab.ok && lab.config.checks[0]?.plan).toEqual({ type: "interval", everyMs: 5_000 });
  });

  it("keeps the floors' ratio: 4 s is still below 5 story minutes, and an inherited interval is raised to them", () => {
    const kinds = storyTimeKinds(PROBE_KINDS, 60);
    const tooOften = parseConfigText(teams("interval: 4s", "3s"), kinds);
    expect(!tooOften.ok && tooOften.errors).toEqual([
      "checks[0].interval: runs every 4s, too often for teams_chat: at least 5s (Microsoft's terms forbid using Teams as a log; in the lab, on the story clock at speed 60)",
    ]);
    const inherited = parseConfigText(teams("", "3s"), kinds);
    expect(inherited.ok && inherited.config.checks[0]?.plan).toEqual({ type: "interval", everyMs: 5_000 });
  });

  it("at speed 1 (a real-time lab) nothing changes", () => {
    expect(parseConfigText(teams("interval: 5s", "3s"), storyTimeKinds(PROBE_KINDS, 1)).ok).toBe(false);
  });
});
