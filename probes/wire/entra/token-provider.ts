import { readFile } from "node:fs/promises";
import { inspect } from "node:util";
import type { Logger } from "pino";
import { ProbeError } from "../../../src/core/probe-error.js";
import type { TlsSettings } from "../transport/tls.js";
import {
  HttpRequestError,
  httpStatusError,
  timedRequest,
  type HttpIo,
  type HttpResponse,
  type HttpTimings,
} from "../http/client.js";
import { clientAssertion, loadAppCertificate, type AppCertificate } from "./assertion.js";
import { tokenScope, tokenUrl, type EntraCredentialSettings } from "./credentials-schema.js";
import { detachedClock } from "../phases.js";
import { readRefreshToken, writeRefreshToken } from "./refresh-token-store.js";

/** An access token: printed, logged and serialised as `<token>`; `reveal()` only where it is sent. */
export class BearerToken {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The raw token, for an Authorization header or SASL XOAUTH2. */
  reveal(): string {
    return this.#value;
  }

  toJSON(): string {
    return "<token>";
  }

  toString(): string {
    return "<token>";
  }

  [inspect.custom](): string {
    return "<token>";
  }
}

/** What `token()` gives a check. */
export interface AccessToken {
  token: BearerToken;
  /** Epoch ms at which Entra said the token expires. */
  expiresAt: number;
  /** True when no request was sent for this call (cache hit, or joined a fetch another check started). */
  isFromCache: boolean;
  /** Phases of the token request this call sent (fresh, or it started the shared fetch); absent otherwise. */
  timings?: HttpTimings;
  requestIds: Record<string, string>;
}

/** What the composition root gives a provider. */
export interface TokenProviderDeps {
  /** For the shared fetch, which belongs to no single check. */
  logger: Logger;
  /** http:// proxy for the token endpoint (the credential's own `proxy` wins). */
  proxy?: URL | undefined;
  /** TLS settings for the token endpoint, e.g. a CA for a local simulator. */
  tls?: TlsSettings | undefined;
  /** Clock for expiry, epoch ms (tests advance it). */
  now?: () => number;
  /** Bound of a shared fetch, which runs on its own signal so that one check's deadline cannot fail the others. */
  fetchTimeoutMs?: number;
}

/** Refresh this long before expiry at most … */
const MAX_REFRESH_MARGIN_MS = 5 * 60_000;
/** … or this share of the lifetime, whichever is less. */
const REFRESH_SHARE = 0.1;
const DEFAULT_FETCH_TIMEOUT_MS = 30_000;

interface Cached {
  token: BearerToken;
  expiresAt: number;
  refreshAt: number;
}

/**
 * Entra ID tokens for one credential, shared by every check that names it: cached until shortly before expiry, at most
 * one fetch in flight (concurrent callers await it), failures not cached. A direct form POST to
 * {authority}/{tenant}/oauth2/v2.0/token on the timed HTTP client (client credentials with a secret or a certificate
 * assertion, or the refresh-token grant with rotation stored in `refresh_token_file`).
 */
export class EntraTokenProvider {
  readonly name: string;
  readonly #credential: EntraCredentialSettings;
  readonly #deps: TokenProviderDeps;
  readonly #now: () => number;
  #cached: Cached | undefined;
  #inflight: Promise<AccessToken> | undefined;
  /** Refresh-token grants run one at a time: each rotates the token the next one must use. */
  #lock: Promise<unknown> = Promise.resolve();
  #certificate: AppCertificate | undefined;
  #refreshToken: string | undefined;

  constructor(name: string, credential: EntraCredentialSettings, deps: TokenProviderDeps) {
    this.name = name;
    this.#credential = credential;
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
  }

  /**
   * A token for `io`'s check, timed as phase `auth` on `io.phases`. `fresh: true` always sends a request (the
   * `entra_signin` kind times sign-in itself) and refreshes the cache. Throws a ProbeError in phase `auth` with
   * `entra` facts (status, headers, error body with `error_codes`) or the connection's `net`/`tls` facts.
   */
  token(io: HttpIo, options: { fresh?: boolean } = {}): Promise<AccessToken> {
    return io.phases.time("auth", async () => {
      const cached = this.#cached;
      if (options.fresh !== true && cached !== undefined && this.#now() < cached.refreshAt) {
        return { token: cached.token, expiresAt: cached.expiresAt, isFromCache: true, requestIds: {} };
      }
      if (options.fresh === true) return this.#serial(() => this.#fetch(io.signal, io.logger));
      let isStarter = false;
      if (this.#inflight === undefined) {
        isStarter = true;
        const signal = AbortSignal.timeout(this.#deps.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS);
        this.#inflight = this.#serial(() => this.#fetch(signal, this.#deps.logger)).finally(() => {
          this.#inflight = undefined;
        });
      }
      const result = await untilAborted(this.#inflight, io.signal);
      return isStarter ? result : { ...result, isFromCache: true, requestIds: {} };
    });
  }

  /** Drops the cached token (e.g. after the API answered 401 with it). */
  invalidate(): void {
    this.#cached = undefined;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#credential.type !== "entra_refresh_token") return fn();
    const run = this.#lock.then(fn, fn);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  async #fetch(signal: AbortSignal, logger: Logger): Promise<AccessToken> {
    const credential = this.#credential;
    const url = tokenUrl(credential);
    const form = new URLSearchParams({ client_id: credential.client_id, scope: tokenScope(credential) });
    try {
      switch (credential.type) {
        case "entra_client_secret":
          form.set("grant_type", "client_credentials");
          form.set("client_secret", credential.client_secret.reveal());
          break;
        case "entra_certificate":
          form.set("grant_type", "client_credentials");
          form.set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
          form.set(
            "client_assertion",
            clientAssertion(await this.#appCertificate(), credential.client_id, url.href, this.#now()),
          );
          break;
        case "entra_refresh_token":
          form.set("grant_type", "refresh_token");
          form.set("refresh_token", (this.#refreshToken ??= await readRefreshToken(credential.refresh_token_file)));
          if (credential.client_secret !== undefined) form.set("client_secret", credential.client_secret.reveal());
          break;
      }
    } catch (error) {
      throw authError(error, "config");
    }

    let response: HttpResponse;
    try {
      response = await timedRequest(
        // Sub-phases stay off the check's clock: the check reports the token request as one phase, `auth`.
        { signal, phases: detachedClock(), logger },
        {
          url,
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
          body: form.toString(),
          tls: this.#deps.tls ?? { insecure_skip_verify: false },
          proxy: credential.proxy === undefined ? this.#deps.proxy : new URL(credential.proxy),
          sendClientRequestId: true,
        },
      );
    } catch (error) {
      throw authError(error, undefined);
    }
    if (response.status !== 200) throw authError(httpStatusError(response, "entra", "auth"), undefined);

    const json = response.json as Record<string, unknown> | undefined;
    const accessToken = json?.["access_token"];
    const expiresIn = Number(json?.["expires_in"]);
    if (typeof accessToken !== "string" || accessToken === "" || !Number.isFinite(expiresIn) || expiresIn <= 0) {
      // Never hand this body to facts or logs: a half-readable success body may still hold a token.
      throw new HttpRequestError(
        new ProbeError("token response without access_token/expires_in", {
          phase: "auth",
          facts: { protocol: "probe", input: { class: "protocol" } },
        }),
        { ...failureInfo(response), status: 200 },
      );
    }
    const rotated = json?.["refresh_token"];
    if (credential.type === "entra_refresh_token" && typeof rotated === "string" && rotated !== "") {
      await this.#storeRefreshToken(credential.refresh_token_file, rotated, logger);
    }
    const now = this.#now();
    const lifetime = expiresIn * 1000;
    const token = new BearerToken(accessToken);
    const expiresAt = now + lifetime;
    this.#cached = {
      token,
      expiresAt,
      refreshAt: expiresAt - Math.min(MAX_REFRESH_MARGIN_MS, lifetime * REFRESH_SHARE),
    };
    logger.debug(
      {
        credential: this.name,
        expiresInSeconds: expiresIn,
        requestIds: response.requestIds,
        timings: response.timings,
      },
      "entra token issued",
    );
    return { token, expiresAt, isFromCache: false, timings: response.timings, requestIds: response.requestIds };
  }

  async #appCertificate(): Promise<AppCertificate> {
    const credential = this.#credential;
    if (credential.type !== "entra_certificate") throw new Error("not a certificate credential");
    if (this.#certificate !== undefined) return this.#certificate;
    const certPem = await readFile(credential.certificate_file, "utf8");
    const keyPem =
      credential.private_key_file === undefined ? certPem : await readFile(credential.private_key_file, "utf8");
    this.#certificate = loadAppCertificate(certPem, keyPem);
    return this.#certificate;
  }

  async #storeRefreshToken(path: string, token: string, logger: Logger): Promise<void> {
    this.#refreshToken = token;
    try {
      await writeRefreshToken(path, token);
    } catch (error) {
      // The new token is kept in memory and this run goes on; after a restart the old token is tried again.
      const code = (error as NodeJS.ErrnoException).code ?? "error";
      logger.error({ credential: this.name, file: path, code }, "cannot store the rotated refresh token");
    }
  }
}

function failureInfo(response: HttpResponse) {
  return {
    url: `${response.url.origin}${response.url.pathname}`,
    status: response.status,
    redirects: response.redirects,
    requestIds: response.requestIds,
    earliestCertExpiry: response.earliestCertExpiry,
    timings: response.timings,
  };
}

/** Re-labels a failure as phase `auth`, keeping its facts, request ids and cause. */
function authError(error: unknown, as: "config" | undefined): ProbeError {
  const message = error instanceof Error ? error.message : String(error);
  if (as === "config" || !(error instanceof ProbeError)) {
    const facts = error instanceof ProbeError && error.facts !== undefined ? error.facts : undefined;
    return new ProbeError(
      `token request: ${message}`,
      { phase: "auth", facts: facts ?? { protocol: "probe", input: { class: as ?? "protocol" } } },
      { cause: error },
    );
  }
  const details = { phase: "auth", ...(error.facts === undefined ? {} : { facts: error.facts }) };
  const relabelled = new ProbeError(`token request: ${message}`, details, { cause: error.cause ?? error });
  return error instanceof HttpRequestError ? new HttpRequestError(relabelled, error.info) : relabelled;
}

/** Waits for `promise` unless `signal` aborts first (the shared fetch goes on for the other callers). */
async function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  const abortError = () => new ProbeError("auth: aborted at the deadline", { phase: "auth" }, { cause: signal.reason });
  if (signal.aborted) throw abortError();
  let onAbort = (): void => undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(abortError());
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
