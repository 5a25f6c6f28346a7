import type { AnyProbeKind, Target } from "../core/probe.js";

/** When a check runs. */
export type Plan = { type: "interval"; everyMs: number } | { type: "cron"; expression: string };

/** One check, resolved: defaults applied, target parsed, settings validated by its kind. */
export interface CheckConfig {
  readonly name: string;
  readonly kind: AnyProbeKind;
  readonly settings: unknown;
  readonly target: Target;
  readonly plan: Plan;
  readonly timeoutMs: number;
  /** Configured labels of the check (agent labels not included). */
  readonly labels: Readonly<Record<string, string>>;
  /** Held together with the other checks of this scope after a throttle (see ProbeKind.throttleScope). */
  readonly throttleScope: string | undefined;
  /** Equal fingerprints mean an unchanged check: a reload keeps it running as it is. */
  readonly fingerprint: string;
}

/** One entry of the `credentials:` block, parsed by the kinds' credential family. */
export interface CredentialConfig {
  readonly settings: unknown;
  /** Equal fingerprints mean an unchanged credential: a reload keeps its token cache. */
  readonly fingerprint: string;
}

/** The whole resolved config. */
export interface AgentConfig {
  readonly credentials: ReadonlyMap<string, CredentialConfig>;
  readonly listen: { host: string; port: number };
  readonly location: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly logLevel: string;
  /** Optional metric families (`agent.metrics`). */
  readonly metrics: { readonly runDurationHistogram: boolean; readonly lastSuccessTimestamp: boolean };
  readonly checks: readonly CheckConfig[];
}

/** A config load either yields a config or the list of problems, one line each. */
export type LoadResult = { ok: true; config: AgentConfig } | { ok: false; errors: string[] };
