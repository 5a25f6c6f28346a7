import type { AgentConfig } from "../config/model.js";
import type { Credential, CredentialDeps, CredentialFamily } from "../core/credentials.js";
import { ProbeError } from "../core/probe-error.js";

/**
 * The credentials of the config in force, made by the kinds' credential family. An unchanged credential (same
 * fingerprint) keeps its instance across reloads, so its token cache survives; a changed or removed one is dropped.
 */
export class CredentialSet {
  readonly #family: CredentialFamily | undefined;
  readonly #deps: CredentialDeps;
  #byName = new Map<string, { fingerprint: string; credential: Credential }>();

  constructor(family: CredentialFamily | undefined, deps: CredentialDeps) {
    this.#family = family;
    this.#deps = deps;
  }

  /** Takes the credentials of `config`, keeping the instances of unchanged ones. */
  apply(config: Pick<AgentConfig, "credentials">): void {
    const next = new Map<string, { fingerprint: string; credential: Credential }>();
    for (const [name, { settings, fingerprint }] of config.credentials) {
      const kept = this.#byName.get(name);
      if (kept !== undefined && kept.fingerprint === fingerprint) next.set(name, kept);
      else if (this.#family !== undefined) {
        next.set(name, { fingerprint, credential: this.#family.create(name, settings, this.#deps) });
      }
    }
    this.#byName = next;
  }

  /** The proxy the agent's environment names for `url`, if any (the same rule its token requests follow). */
  proxyFor(url: URL): URL | undefined {
    return this.#deps.proxyFor(url);
  }

  /** The named credential; config load made sure it exists, so a miss is a config problem of this run. */
  get(name: string): Credential {
    const found = this.#byName.get(name)?.credential;
    if (found === undefined) {
      throw new ProbeError(`no credential "${name}" under credentials`, {
        phase: "auth",
        facts: { protocol: "probe", input: { class: "config" } },
      });
    }
    return found;
  }
}
