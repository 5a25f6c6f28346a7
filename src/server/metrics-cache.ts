import { promisify } from "node:util";
import { constants, gzip } from "node:zlib";
import type { Registry } from "prom-client";
import { renderExposition, type ExpositionFormat, type LabelCache } from "../metrics/exposition.js";

const gzipAsync = promisify(gzip);

/** One rendering of /metrics: the body, and its gzip made once on first demand (in libuv's thread pool). */
export interface Rendering {
  body: Buffer;
  gzipped(): Promise<Buffer>;
}

/** One rendering of /metrics per format shared by every scrape that arrives while it is being made. */
export class CoalescedMetrics {
  readonly #registry: Registry;
  readonly #sliceMs: number | undefined;
  readonly #inFlight = new Map<ExpositionFormat, Promise<Rendering>>();
  readonly #labels: LabelCache = new WeakMap();
  /** Bytes of the last body of each format: the next one is written into a buffer of about that size. */
  readonly #lastBytes = new Map<ExpositionFormat, number>();

  constructor(registry: Registry, options: { sliceMs?: number } = {}) {
    this.#registry = registry;
    this.#sliceMs = options.sliceMs;
  }

  /** The exposition; concurrent callers of one format share one render and one buffer, so N parallel scrapes cost
   * one. The render yields to the event loop every few ms (renderExposition), so probes are not held up by it. */
  render(format: ExpositionFormat = "text"): Promise<Rendering> {
    let pending = this.#inFlight.get(format);
    if (pending === undefined) {
      const last = this.#lastBytes.get(format) ?? 0;
      pending = renderExposition(this.#registry, format, this.#sliceMs, this.#labels, last + (last >> 3))
        .then((body) => {
          this.#lastBytes.set(format, body.length);
          return rendering(body);
        })
        .finally(() => this.#inFlight.delete(format));
      this.#inFlight.set(format, pending);
    }
    return pending;
  }
}

function rendering(body: Buffer): Rendering {
  let zipped: Promise<Buffer> | undefined;
  // Level 1: the exposition is so repetitive that it compresses about as well (0.50 MB against 0.45 MB for 14.5 MB at
  // 10,000 checks) in a third of the time of the default level 6 (30 ms against 90-120 ms).
  return { body, gzipped: () => (zipped ??= gzipAsync(body, { level: constants.Z_BEST_SPEED })) };
}
