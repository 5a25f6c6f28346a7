import type { ClassifyInput } from "./taxonomy.js";

/** A probe failure with the structured facts the classifier reads; the original error stays in `cause`. */
export class ProbeError extends Error {
  override readonly name: string = "ProbeError";
  /** The phase the failure happened in (one of the kind's phases). */
  #phase: string | undefined;
  /** Facts for the classifier; absent when only `cause` (a Node/undici error) tells what happened. */
  readonly facts: ClassifyInput | undefined;

  constructor(message: string, details: { phase?: string; facts?: ClassifyInput }, options?: { cause?: unknown }) {
    super(message, options);
    this.#phase = details.phase;
    this.facts = details.facts;
  }

  /** The phase the failure happened in (one of the kind's phases). */
  get phase(): string | undefined {
    return this.#phase;
  }

  /** Gives the failure the phase label of the kind that ran the session (`rcpt` → `submit_rcpt`); class and cause
   * stay, so callers can still tell an uncertain send by its type. */
  relabel(phase: string): this {
    this.#phase = phase;
    return this;
  }
}
