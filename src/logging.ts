import { pino, type DestinationStream, type Logger } from "pino";

/** Paths pino replaces with `<redacted>`: credentials must never reach a log line. */
export const REDACT_PATHS = [
  "password",
  "token",
  "secret",
  "authorization",
  "*.password",
  "*.token",
  "*.secret",
  "*.authorization",
  "*.Authorization",
  "*.*.password",
  "*.*.token",
  "headers.authorization",
  "*.headers.authorization",
  "*.headers.Authorization",
];

/** The agent's JSON logger on stdout (or `destination` in tests). */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { app: "suiteprobe" },
    redact: { paths: REDACT_PATHS, censor: "<redacted>" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
