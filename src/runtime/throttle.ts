/**
 * Throttle-aware scheduling: after an API asked to back off (429, or 503 with Retry-After), every check that shares
 * the throttle scope (one credential against one API host) is held until the time passes. A held run is not started,
 * so it sets no `probe_success` and adds to no failure counter: "held back by throttling" never reads as "down".
 */

/** How long to hold when the API asked to back off without saying for how long: doubling per consecutive throttle. */
export const THROTTLE_BACKOFF = { firstMs: 30_000, maxMs: 15 * 60_000 } as const;

/** What a finished run says about its scope. */
export type ThrottleVerdict =
  | { isThrottled: false }
  /** `retryAfterSeconds`: the API's own Retry-After, already capped; absent → exponential backoff. */
  | { isThrottled: true; retryAfterSeconds?: number };

interface Hold {
  untilMs: number;
  /** Consecutive throttled runs: the backoff doubles with each. */
  strikes: number;
}

/** Holds per throttle scope, shared by all checks of the scope. */
export class ThrottleGate {
  readonly #holds = new Map<string, Hold>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Epoch ms until which runs of `scope` are held; undefined when they may run. */
  heldUntil(scope: string | undefined): number | undefined {
    if (scope === undefined) return undefined;
    const hold = this.#holds.get(scope);
    return hold !== undefined && hold.untilMs > this.#now() ? hold.untilMs : undefined;
  }

  /** Records a finished run of `scope`: a throttled one starts or extends the hold, any other ends the streak. */
  record(scope: string | undefined, verdict: ThrottleVerdict): void {
    if (scope === undefined) return;
    const before = this.#holds.get(scope);
    if (!verdict.isThrottled) {
      // A run that got an answer other than "back off" ends the streak; a hold still running stays.
      if (before !== undefined && before.untilMs <= this.#now()) this.#holds.delete(scope);
      else if (before !== undefined) before.strikes = 0;
      return;
    }
    const strikes = (before?.strikes ?? 0) + 1;
    const waitMs =
      verdict.retryAfterSeconds !== undefined
        ? verdict.retryAfterSeconds * 1000
        : Math.min(THROTTLE_BACKOFF.firstMs * 2 ** Math.min(strikes - 1, 20), THROTTLE_BACKOFF.maxMs);
    // Never shorten a hold another check of the scope already got.
    const untilMs = Math.max(before?.untilMs ?? 0, this.#now() + waitMs);
    this.#holds.set(scope, { untilMs, strikes });
  }

  /** Forgets scopes no configured check uses any more (after a reload). */
  retain(scopes: ReadonlySet<string>): void {
    for (const scope of this.#holds.keys()) if (!scopes.has(scope)) this.#holds.delete(scope);
  }
}
