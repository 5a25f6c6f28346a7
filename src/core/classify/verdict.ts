import type { Classification, ErrorClass, Side } from "../taxonomy.js";

/** What a rule row decides: a class, optionally overriding the class's default `retryable` and `side`. */
export interface Verdict {
  readonly class: ErrorClass;
  readonly retryable?: boolean;
  readonly side?: Side;
}

/** Per-class defaults (error-facts.md §8): used when a rule row does not say otherwise. */
export const CLASS_DEFAULTS: Readonly<Record<ErrorClass, { readonly retryable: boolean; readonly side: Side }>> = {
  dns: { retryable: false, side: "config" },
  connect: { retryable: true, side: "network" },
  tls: { retryable: false, side: "config" },
  timeout: { retryable: true, side: "network" },
  auth: { retryable: false, side: "config" },
  permission: { retryable: false, side: "config" },
  throttled: { retryable: true, side: "provider" },
  unavailable: { retryable: true, side: "provider" },
  server_error: { retryable: false, side: "provider" },
  rejected: { retryable: false, side: "config" },
  not_found: { retryable: false, side: "config" },
  quota: { retryable: false, side: "config" },
  protocol: { retryable: false, side: "config" },
  assertion: { retryable: false, side: "provider" },
  delivery: { retryable: true, side: "provider" },
  config: { retryable: false, side: "config" },
  unknown: { retryable: false, side: "unknown" },
};

/** Builds a classification from a verdict; `retryable` given here (e.g. the SMTP reply digit) wins over the row. */
export function fromVerdict(verdict: Verdict, code: string, retryable?: boolean): Classification {
  const defaults = CLASS_DEFAULTS[verdict.class];
  return {
    class: verdict.class,
    retryable: retryable ?? verdict.retryable ?? defaults.retryable,
    side: verdict.side ?? defaults.side,
    code,
  };
}

/** A positive reply: never a failure, never a metric label. */
export function positive(code: string): Classification {
  return { class: "ok", retryable: false, side: "none", code };
}

/** Nothing matched; `code` says whether anything code-like was seen (`other`) or not (`none`). */
export function unknownResult(code: "other" | "none"): Classification {
  return { class: "unknown", retryable: false, side: "unknown", code };
}
