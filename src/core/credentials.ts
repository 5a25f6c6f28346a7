/**
 * Credentials: named sign-ins under the top-level `credentials:` block, shared by the checks that name them (one token
 * cache per credential). A kind that signs in declares the credential family it understands (schema + factory); the
 * engine composes the block's schema from the registered kinds, checks at load that every named credential exists,
 * and gives each run a lookup. The engine knows no sign-in protocol.
 */
import type { Logger } from "pino";
import type { z } from "zod";
import type { PhaseClock } from "./probe.js";

/** What a credential borrows from the run that asks it for a token. */
export interface CredentialIo {
  readonly signal: AbortSignal;
  readonly phases: PhaseClock;
  readonly logger: Logger;
}

/** An Authorization header value that prints as `<secret>`; `reveal()` only where it is sent. */
export interface AuthorizationHeader {
  reveal(): string;
  /** True when no request was sent for it (cached token, or a fetch another check started). */
  readonly isFromCache: boolean;
}

/** A sign-in a check borrows by name. */
export interface Credential {
  readonly name: string;
  /** The credential's `type` in config. */
  readonly type: string;
  /** App-only (client credentials) rather than a user's delegated sign-in: some APIs allow only one of them. */
  readonly isAppOnly: boolean;
  /** The Authorization header value; a token request is timed as phase `auth`; `fresh` bypasses any cache. */
  authorization(io: CredentialIo, options?: { fresh?: boolean }): Promise<AuthorizationHeader>;
  /** Drops a cached token the API refused (401), so the next run signs in again. */
  invalidate(): void;
}

/** What the composition root gives a credential when it makes one. */
export interface CredentialDeps {
  /** For work that belongs to no single check (a token fetch shared by several). */
  readonly logger: Logger;
  /** The proxy to reach `url` through, from the agent's environment (HTTPS_PROXY/NO_PROXY), if any. */
  proxyFor(url: URL): URL | undefined;
}

/** What config load can tell of a named credential without signing in (for a kind's rules across fields). */
export interface CredentialInfo {
  readonly name: string;
  readonly type: string;
  readonly isAppOnly: boolean;
}

/** The credential types a kind understands: the schema of one entry under `credentials:` and its factory. */
export interface CredentialFamily<S = unknown> {
  readonly schema: z.ZodType<S>;
  create(name: string, settings: S, deps: CredentialDeps): Credential;
  /** The type and sign-in mode of parsed settings, as `create` would make them. */
  describe?(settings: S): Omit<CredentialInfo, "name">;
}

/** The credential family of the registered kinds: at most one, shared (one `credentials:` block). */
export function credentialFamilyOf(kinds: readonly { id: string; credentials?: CredentialFamily }[]) {
  const families = [...new Set(kinds.flatMap((k) => (k.credentials === undefined ? [] : [k.credentials])))];
  if (families.length > 1) {
    throw new TypeError(`kinds declare ${families.length} credential families; one credentials: block takes one`);
  }
  return families[0];
}
