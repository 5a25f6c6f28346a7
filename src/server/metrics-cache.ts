import type { Registry } from "prom-client";

/** One rendering of /metrics shared by every scrape that arrives while it is being made. */
export class CoalescedMetrics {
  readonly #registry: Registry;
  #inFlight: Promise<Buffer> | undefined;

  constructor(registry: Registry) {
    this.#registry = registry;
  }

  /** The exposition text; concurrent callers share one render and one buffer, so N parallel scrapes cost one. */
  render(): Promise<Buffer> {
    this.#inFlight ??= this.#registry
      .metrics()
      .then((text) => Buffer.from(text, "utf8"))
      .finally(() => {
        this.#inFlight = undefined;
      });
    return this.#inFlight;
  }
}
