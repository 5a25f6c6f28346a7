import { z } from "zod";

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** Milliseconds of a duration like `500ms`, `30s`, `5m`, `1h`; undefined when malformed. */
export function parseDurationMs(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (match === null) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** A duration string in config, parsed to milliseconds. */
export const duration = z
  .string()
  .refine((text) => (parseDurationMs(text) ?? 0) > 0, {
    message: 'must be a positive duration like "500ms", "30s", "5m" or "1h"',
  })
  .transform((text) => parseDurationMs(text) as number);
