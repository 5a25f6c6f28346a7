/**
 * `suiteprobe once` with an `http` check signed in through Entra and an `entra_signin` check, against the local
 * Microsoft 365 simulator: healthy and under each fault, with the right result, class, code, phase and exit code, and
 * the client secret never in the output.
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultWorld, type SimFault, type SimEndpoint, type Simulator } from "../../lab/sim/index.js";
import { runCli, writeConfig } from "../helpers/cli.js";
import { SIM_APP, SIM_TENANT, simulators } from "../helpers/sim.js";

const start = simulators();
// Quotes, a backslash and non-ASCII: every encoding of it must stay out of the output.
const SENTINEL = 'S3nt"inel\\sécret-9f1c';

async function world(): Promise<Simulator> {
  const w = defaultWorld();
  const app = w.apps[0];
  if (app !== undefined) app.secret = SENTINEL;
  return start({ world: w });
}

function config(sim: Simulator, secretFile: string, extra = ""): string {
  return writeConfig(`
credentials:
  m365:
    type: entra_client_secret
    tenant: ${SIM_TENANT}
    client_id: ${SIM_APP.clientId}
    client_secret: "\${file:${secretFile}}"
    authority: ${sim.url}
checks:
  - name: health-api
    kind: http
    target: ${sim.url}/v1.0/admin/serviceAnnouncement/healthOverviews
    timeout: 3s
    http:
      credential: m365
      expect_json: [{ path: "$.value[*]", min_count: 1 }]${extra}
  - name: signin
    kind: entra_signin
    timeout: 3s
    entra_signin: { credential: m365 }
`);
}

interface Line {
  check: string;
  success: boolean;
  class?: string;
  code?: string;
  phase?: string;
  retryable?: boolean;
  side?: string;
  phases: Record<string, number>;
  facts: Record<string, number>;
}

async function once(sim: Simulator, faults: [SimEndpoint, SimFault][] = [], extra = "", isTableToo = false) {
  sim.clearFaults();
  for (const [endpoint, fault] of faults) sim.setFault(endpoint, fault);
  const secretFile = join(dirname(writeConfig("")), "client-secret");
  writeFileSync(secretFile, SENTINEL, { mode: 0o600 });
  const path = config(sim, secretFile, extra);
  const result = await runCli(["once", "--config", path, "--json"], { timeoutMs: 20_000 });
  const table = isTableToo ? await runCli(["once", "--config", path], { timeoutMs: 20_000 }) : undefined;
  for (const text of [result.stdout, result.stderr, table?.stdout ?? "", table?.stderr ?? ""]) {
    expect(text).not.toContain("S3nt");
    expect(text).not.toContain(Buffer.from(SENTINEL).toString("base64").slice(0, 12));
    expect(text).not.toContain(encodeURIComponent(SENTINEL).slice(0, 12));
  }
  const lines = result.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Line);
  const by = (name: string) => lines.find((l) => l.check === name) as Line;
  return { code: result.code, api: by("health-api"), signin: by("signin") };
}

// Each case spawns the CLI once or twice; on a busy two-core machine that takes seconds.
describe("once: http with Entra sign-in, and entra_signin, against the simulator", { timeout: 60_000 }, () => {
  it("succeeds when all is well, timing sign-in and every HTTP phase", async () => {
    const sim = await world();
    const { code, api, signin } = await once(sim, [], "", true);
    expect(code).toBe(0);
    expect(api.success).toBe(true);
    expect(Object.keys(api.phases)).toEqual(expect.arrayContaining(["auth", "dns", "connect", "ttfb", "transfer"]));
    expect(api.facts).toMatchObject({ http_status_code: 200, http_redirects: 0 });
    expect(signin).toMatchObject({ success: true });
    expect(Object.keys(signin.phases)).toEqual(["auth"]);
  });

  it.each([
    [7000215, "auth", "AADSTS7000215", false],
    [7000222, "auth", "AADSTS7000222", false],
    [90002, "not_found", "AADSTS90002", false],
    [90033, "unavailable", "AADSTS90033", true],
  ] as const)(
    "AADSTS%i at sign-in is class %s, in phase auth, for both checks",
    async (aadsts, cls, code, retryable) => {
      const sim = await world();
      const result = await once(sim, [["entra.token", { type: "aadsts", code: aadsts }]]);
      expect(result.code).toBe(1);
      for (const line of [result.api, result.signin]) {
        expect(line).toMatchObject({ success: false, class: cls, code, phase: "auth", retryable });
      }
    },
  );

  it("tells Graph's failures apart while sign-in works: 503, 504 UnknownError, 429 with Retry-After", async () => {
    const sim = await world();
    const cases: [SimFault, Partial<Line>][] = [
      [
        { type: "status", status: 503, code: "serviceNotAvailable" },
        { class: "unavailable", retryable: true, side: "provider" },
      ],
      [
        { type: "status", status: 504, code: "UnknownError" },
        { class: "unavailable", retryable: true },
      ],
      [
        { type: "status", status: 429, code: "TooManyRequests", retryAfter: 30 },
        { class: "throttled", code: "429" },
      ],
    ];
    for (const [fault, expected] of cases) {
      const { api, signin } = await once(sim, [["graph.health.overviews", fault]]);
      expect(api).toMatchObject({ success: false, phase: "transfer", ...expected });
      expect(api.facts.http_status_code).toBe(fault.type === "status" ? fault.status : 0);
      expect(signin.success).toBe(true);
    }
  });

  it("a slow first byte past the deadline is a timeout in phase ttfb; an unexpected 200 is an assertion", async () => {
    const sim = await world();
    const slow = await once(sim, [["graph.health.overviews", { type: "delay", ms: 5_000 }]]);
    expect(slow.api).toMatchObject({ success: false, class: "timeout", phase: "ttfb" });
    const strict = await once(sim, [], "\n      expect_status: [204]");
    expect(strict.api).toMatchObject({ success: false, class: "assertion", code: "200" });
  });
});
