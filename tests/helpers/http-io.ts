import { Writable } from "node:stream";
import type { PhaseClock } from "../../src/core/probe.js";
import { createLogger } from "../../src/logging.js";
import { createPhaseClock } from "../../src/runtime/phase-clock.js";
import type { HttpIo } from "../../probes/wire/http/client.js";
import { HTTP_PHASES } from "../../probes/wire/http/connector.js";

/** An HttpIo as a run would give it: a signal aborted after `timeoutMs` (as at the deadline), phases, a debug logger
 * whose output is captured in `logs()` (the agent's logger, with its redaction). */
export function testIo(timeoutMs = 5000): {
  io: HttpIo;
  phases: PhaseClock;
  controller: AbortController;
  deadline: number;
  logs(): string;
  dispose(): void;
} {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException("probe deadline exceeded", "TimeoutError")),
    timeoutMs,
  );
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString("utf8"));
      callback();
    },
  });
  // The HTTP phases plus `auth`, the token request a Microsoft check times first.
  const phases = createPhaseClock([...HTTP_PHASES, "auth"]);
  return {
    io: { signal: controller.signal, phases, logger: createLogger("debug", sink) },
    phases,
    controller,
    deadline: Date.now() + timeoutMs,
    logs: () => lines.join(""),
    dispose: () => clearTimeout(timer),
  };
}
