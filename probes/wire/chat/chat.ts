/**
 * What the chat round-trip kinds (`teams_chat`, `slack_chat`) share: their phases, facts, the probe message text, and
 * one API call inside a phase the caller already times.
 */
import { counterFact, histogramFact } from "../../../src/core/facts.js";
import { ProbeError } from "../../../src/core/probe-error.js";
import { apiRequest, type ApiCall, type ApiIo } from "../http/api.js";
import type { HttpResponse } from "../http/client.js";
import { HttpRequestError } from "../http/client.js";
import { detachedClock } from "../phases.js";
import { checkHash } from "../roundtrip/probe-id.js";

/** Phases of a chat round trip: sign-in, post, until visible, delete (the driver's `delivery` and `cleanup`). */
export const CHAT_PHASES = ["auth", "post", "visible", "delete"] as const;

/** The driver's phases under their chat names. */
export const CHAT_PHASE_NAMES = { delivery: "visible", cleanup: "delete" } as const;

const DELIVERY_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300];

/** The facts of a chat round trip, shared by Teams and Slack (one metric, `kind` tells them apart). */
export const CHAT_FACTS = {
  delivery: histogramFact(
    "probe_chat_delivery_seconds",
    "Chat round trip: message accepted to message visible when read back (arrived in time).",
    DELIVERY_BUCKETS,
  ),
  late: counterFact("probe_chat_late_total", "Chat probe messages of earlier runs seen after their deadline."),
  uncertain: counterFact(
    "probe_chat_uncertain_sends_total",
    "Chat posts whose outcome is unknown: the connection was lost before the answer.",
  ),
} as const;

const PROBE_ID_IN_TEXT = /sp-([0-9a-f]{8})-[0-9a-z]{6,11}-[0-9a-f]{12}/g;

/** The text of a probe message: says what it is, carries the probe id. */
export function chatProbeText(id: string): string {
  return `suiteprobe chat probe ${id} (deleted automatically)`;
}

/** The probe id of `check` a message text carries, if any (ids of other checks are never matched). */
export function probeIdIn(text: string, check: string): string | undefined {
  const hash = checkHash(check);
  for (const match of text.matchAll(PROBE_ID_IN_TEXT)) if (match[1] === hash) return match[0];
  return undefined;
}

/** One API call inside a phase the caller times (the driver's `visible`/`delete`): failures carry `phase`. */
export function callIn(io: ApiIo, phase: string, call: ApiCall): Promise<HttpResponse> {
  return apiRequest({ ...io, phases: detachedClock() }, { ...call, step: phase });
}

/** A lost connection (no HTTP answer) worth retrying until the deadline; a refusal or the run's abort is not. */
export function isLostConnection(error: unknown, signal: AbortSignal): error is HttpRequestError {
  return !signal.aborted && error instanceof HttpRequestError && error.info.status === undefined;
}

/** A config-class failure (wrong credential type, missing setting) in `phase`. */
export function configFailure(message: string, phase: string): ProbeError {
  return new ProbeError(message, { phase, facts: { protocol: "probe", input: { class: "config" } } });
}
