import { createHash, randomBytes } from "node:crypto";

// sp-<check hash>-<send time, epoch ms base 36>-<random>: the hash scopes cleanup to one check, the time lets a
// restarted agent (or a second agent running the same check) tell old leftovers from items still in flight.
const PROBE_ID = /^sp-([0-9a-f]{8})-([0-9a-z]{6,11})-([0-9a-f]{12})$/;

/** The 8-hex-digit hash of a check name that scopes its probe ids. */
export function checkHash(check: string): string {
  return createHash("sha256").update(check).digest("hex").slice(0, 8);
}

/** A new probe id for `check`, e.g. `sp-1a2b3c4d-m3x9k2a1-0123456789ab`. */
export function newProbeId(check: string, nowMs: number): string {
  return `sp-${checkHash(check)}-${nowMs.toString(36)}-${randomBytes(6).toString("hex")}`;
}

/** The parts of a probe id; undefined when `value` is not one. */
export function parseProbeId(value: string): { checkHash: string; sentAtMs: number } | undefined {
  const match = PROBE_ID.exec(value.trim());
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  return { checkHash: match[1], sentAtMs: parseInt(match[2], 36) };
}
