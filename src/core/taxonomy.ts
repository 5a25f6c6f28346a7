/** The closed error taxonomy: these strings are the only values of the `class` metric label. */
export const ERROR_CLASSES = [
  "dns",
  "connect",
  "tls",
  "timeout",
  "auth",
  "permission",
  "throttled",
  "unavailable",
  "server_error",
  "rejected",
  "not_found",
  "quota",
  "protocol",
  "assertion",
  "delivery",
  "config",
  "unknown",
] as const;

/** One failure class (a metric label value). */
export type ErrorClass = (typeof ERROR_CLASSES)[number];

/** What the classifier answers for a positive reply; never a metric label. */
export type ClassOrOk = ErrorClass | "ok";

/** Whose side a failure is on. */
export const SIDES = ["provider", "network", "config", "unknown"] as const;
export type Side = (typeof SIDES)[number];

/** One-line meaning of each class, for the README, `--help` and the status page. */
export const ERROR_CLASS_MEANINGS: Record<ErrorClass, string> = {
  dns: "the name did not resolve",
  connect: "no TCP connection, or it was reset or closed",
  tls: "TLS handshake or certificate failure, or STARTTLS missing where required",
  timeout: "no answer before the deadline",
  auth: "identity rejected",
  permission: "identity accepted, action not allowed",
  throttled: "a rate or concurrency limit",
  unavailable: "the service is temporarily unable to serve",
  server_error: "the service failed in a non-transient or unexplained way",
  rejected: "refused by policy or for its content",
  not_found: "the mailbox, folder, channel, drive or item does not exist",
  quota: "storage full",
  protocol: "the peer spoke something invalid or unexpected",
  assertion: "a normal answer whose content failed a check",
  delivery: "accepted, but never became visible before the deadline",
  config: "the check cannot run as configured",
  unknown: "none of the above",
};

/** The classifier's answer. `code` is bounded: an enhanced status code, reply code, HTTP status, IMAP response code,
 * AADSTS code, a known Node/undici error code, `other` or `none`. */
export interface Classification {
  class: ClassOrOk;
  retryable: boolean;
  side: Side | "none";
  code: string;
}

/** Structured facts about one failure (or reply), as handed to `classify()`. */
export type ClassifyInput =
  | { protocol: "smtp"; input: { stage: string; reply: string } }
  | { protocol: "imap"; input: { response: string; stage?: string } }
  | {
      protocol: "http" | "graph" | "slack" | "entra";
      input: { status: number; headers?: Record<string, string>; body?: unknown };
    }
  | { protocol: "net" | "tls"; input: { code?: string; message?: string } }
  /** A failure the probe itself decided (a failed assertion, a delivery deadline, a local config problem). */
  | {
      protocol: "probe";
      input: { class: "assertion" | "delivery" | "config" | "timeout" | "protocol" | "throttled"; code?: string };
    };
