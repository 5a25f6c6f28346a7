import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import type { Simulator } from "../../lab/sim/index.js";
import { PROBE_KINDS } from "../../probes/index.js";
import { parseConfigText } from "../../src/config/load.js";
import type { AgentConfig } from "../../src/config/model.js";
import { credentialFamilyOf } from "../../src/core/credentials.js";
import { CredentialSet } from "../../src/runtime/credentials.js";
import { runCheck, type RunOutcome } from "../../src/runtime/runner.js";
import { SIM_APP, SIM_TENANT } from "./sim.js";

/** A file holding `secret` (default the seeded app's), for `${file:…}` references. */
export function secretFile(secret: string = SIM_APP.secret): string {
  const path = join(mkdtempSync(join(tmpdir(), "suiteprobe-secret-")), "secret");
  writeFileSync(path, secret, { mode: 0o600 });
  return path;
}

/** A config with the seeded app as credential `m365` against the simulator, and `checks` (YAML list items). */
export function simConfigText(sim: Simulator, checks: string, secretPath = secretFile()): string {
  return `credentials:
  m365:
    type: entra_client_secret
    tenant: ${SIM_TENANT}
    client_id: ${SIM_APP.clientId}
    client_secret: "\${file:${secretPath}}"
    authority: ${sim.url}
checks:
${checks}`;
}

/** Loads config text with the registered kinds, or throws its problems. */
export function loadSimConfig(text: string): AgentConfig {
  const loaded = parseConfigText(text, PROBE_KINDS);
  if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
  return loaded.config;
}

/** Runs checks of one config repeatedly, sharing credentials and per-check state as the agent does. */
export function checkRunner(config: AgentConfig) {
  const logger = pino({ level: "silent" });
  const credentials = new CredentialSet(credentialFamilyOf(PROBE_KINDS), { logger, proxyFor: () => undefined });
  credentials.apply(config);
  const states = new Map(config.checks.map((c) => [c.name, c.kind.createState?.()]));
  return {
    credentials,
    /** One run of the named check (default the first). */
    run(name: string = config.checks[0]?.name ?? ""): Promise<RunOutcome> {
      const check = config.checks.find((c) => c.name === name);
      if (check === undefined) throw new Error(`no check ${name}`);
      return runCheck(check, { logger, credentials, state: states.get(name) });
    },
  };
}
