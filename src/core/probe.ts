import type { Logger } from "pino";
import type { z } from "zod";
import type { Credential, CredentialFamily, CredentialInfo } from "./credentials.js";
import type { Fact, FactRecorder } from "./facts.js";

/** A host and port, as parsed from `host[:port]`. */
export interface SocketEndpoint {
  host: string;
  port: number;
  /** `host:port`, IPv6 in brackets. */
  label: string;
}

/** Where a check points, as parsed once at config load from its `target` or its block's named endpoints. */
export type Target =
  | ({ type: "socket" } & SocketEndpoint)
  | { type: "url"; url: URL; label: string }
  /** Named endpoints of the kind's own block (`submit`, `mailbox`, …), parsed and validated at load. */
  | { type: "endpoints"; endpoints: Readonly<Record<string, SocketEndpoint>>; label: string }
  | { type: "none"; label: string };

/** How a kind reads where a check points. */
export type TargetSpec<S> =
  | { type: "socket"; defaultPort(settings: S): number }
  | { type: "url" }
  /** The kind's block names `host[:port]` endpoints; `labelFrom` names the one that gives the `target` label. */
  | {
      type: "endpoints";
      endpoints(settings: S): Record<string, { text: string; defaultPort: number }>;
      labelFrom: string;
    }
  /** No network endpoint of its own; `label` derives the `target` label from the settings. */
  | { type: "none"; label(settings: S): string };

/** The named endpoint of an `endpoints` target; config load guarantees it exists. */
export function endpointOf(target: Target, name: string): SocketEndpoint {
  const endpoint = target.type === "endpoints" ? target.endpoints[name] : undefined;
  if (endpoint === undefined) throw new TypeError(`target has no endpoint ${name}`);
  return endpoint;
}

/** Times the phases of one run. */
export interface PhaseClock {
  /** Runs `fn` as the named phase; its duration is recorded even when it throws. */
  time<T>(phase: string, fn: () => Promise<T>): Promise<T>;
  /** The phase in progress (innermost), if any: where a failure without its own phase happened. */
  readonly current: string | undefined;
  /** Durations so far, in seconds, in the order phases started. A repeated phase accumulates. */
  snapshot(): Record<string, number>;
}

/** Everything one run of a probe gets. Probes honour `signal`, never touch metrics or `process.env`. */
export interface ProbeContext<S, St = undefined> {
  readonly check: string;
  readonly settings: S;
  readonly target: Target;
  /** Aborted at the run's deadline or at shutdown; sockets must be destroyed when it fires. */
  readonly signal: AbortSignal;
  /** Epoch milliseconds by which the run must end. */
  readonly deadline: number;
  readonly phases: PhaseClock;
  /** Written by the probe as it learns them, also on failure; only the kind's declared facts. */
  readonly facts: FactRecorder;
  readonly logger: Logger;
  /** The kind's own state, made by `createState`; lives as long as the check is configured unchanged. */
  readonly state: St;
  /** A named credential of the `credentials:` block (config load made sure the names the kind uses exist). */
  credential(name: string): Credential;
  /** The proxy the agent's environment names for `url` (HTTPS_PROXY, HTTP_PROXY, NO_PROXY), if any: probes never read
   * `process.env` themselves. */
  proxyFor(url: URL): URL | undefined;
}

/** What a protocol session borrows from its run: the signal, the phase clock, the facts record and the logger. */
export type SessionIo = Pick<ProbeContext<unknown, unknown>, "signal" | "phases" | "facts" | "logger">;

/** A credential named by a settings field, with the credential types (`type` under `credentials:`) it accepts. */
export interface CredentialUse {
  /** The settings field that names it, e.g. `credential`. */
  readonly field: string;
  readonly name: string;
  /** Accepted types; undefined: any. */
  readonly types?: readonly string[];
  /** Why only these (shown in the config error). */
  readonly why?: string;
}

/** A probe kind: one file in probes/ and one line in probes/index.ts. */
export interface ProbeKind<S = unknown, St = undefined> {
  /** The `kind` value and the key of the kind's settings block in a check. */
  readonly id: string;
  /** One line: what the kind does (README table, check-config). */
  readonly title: string;
  /** The kind's own block, strict; `.describe()` on every field. */
  readonly settingsSchema: z.ZodType<S>;
  /** May the block be left out (all fields have defaults)? */
  readonly isSettingsOptional: boolean;
  /** The fixed set of phase label values; the phase clock refuses others. */
  readonly phases: readonly string[];
  /** The facts the kind reports: each becomes a metric, a `once` field and a README row. */
  readonly facts: readonly Fact[];
  /** State carried between runs of one check (e.g. pending round-trip ids); made when the check is (re)configured. */
  createState?(): St;
  readonly target: TargetSpec<S>;
  /** The credential types the kind signs in with (the `credentials:` block's schema comes from here). */
  readonly credentials?: CredentialFamily;
  /** The credential(s) the settings name, if any: config load checks they exist (and are of an accepted type). A
   * string is the `credential` field. */
  credentialOf?(settings: S): string | readonly CredentialUse[] | undefined;
  /** Checks with the same scope (one credential against one API host) are held together after the API asked to back
   * off (429, or 503 with Retry-After); undefined: never held. Values come from config, so they stay few. */
  throttleScope?(settings: S, target: Target): string | undefined;
  /** The shortest gap between runs the API's budget allows, and why: a check that sets no interval or schedule runs
   * this often (or at the inherited interval when longer); one that sets a shorter one is refused at config load. */
  minIntervalMs?(settings: S): { ms: number; why: string } | undefined;
  /** Rules across the settings and the credential they name, checked at config load; each problem as
   * `field: message`, the field relative to the kind's block. */
  settingsProblems?(settings: S, refs: { credential?: CredentialInfo }): string[];
  /** The shortest check timeout the settings can work with, and why (checked at config load). */
  minTimeoutMs?(settings: S): { ms: number; why: string } | undefined;
  /** One run. Resolves on success; throws (preferably a ProbeError) on failure. */
  run(ctx: ProbeContext<S, St>): Promise<void>;
}

/** A kind with its settings and state types erased, as the registry and the engine hold it. */
export type AnyProbeKind = ProbeKind<unknown, unknown>;

/** Erases a kind's settings and state types for the registry (methods are bivariant in their parameters). */
export function defineKind<S, St = undefined>(kind: ProbeKind<S, St>): AnyProbeKind {
  return kind;
}
