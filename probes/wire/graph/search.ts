/**
 * What the file-search kinds share: their facts, the `expect` block and the assertion on a long-lived seeded
 * document (at least N hits, the named file among them, its rank).
 */
import { z } from "zod";
import { gaugeFact } from "../../../src/core/facts.js";
import type { FactRecorder } from "../../../src/core/facts.js";
import { ProbeError } from "../../../src/core/probe-error.js";

/** Hits the query reported (Graph's `total`, else the hits read). */
export const SEARCH_HITS_FACT = gaugeFact("probe_search_hits", "Hits the search query of the last run reported.");
/** 1-based position of the expected file among the hits. */
export const SEARCH_RANK_FACT = gaugeFact(
  "probe_search_rank",
  "1-based rank of the expected file among the hits of the last run; absent when it was not found.",
  { isClearedWhenUnreported: true },
);
/** Upload → first found by search, seconds (index-lag mode). */
export const SEARCH_INDEX_LAG_FACT = gaugeFact(
  "probe_search_index_lag_seconds",
  "Index-lag mode: seconds from uploading a new file until search found it, last run; absent when not found in time.",
  { isClearedWhenUnreported: true },
);

/** The `expect` block of a search kind. */
export const searchExpectSchema = z
  .strictObject({
    min_hits: z.number().int().min(0).default(1).describe("Fewest hits that count as a working search."),
    file_name: z
      .string()
      .min(1)
      .optional()
      .describe("A long-lived seeded document that must be among the hits read (its rank is reported)."),
  })
  .default({ min_hits: 1 })
  .describe("What a working search returns: assert on a long-lived document, since new files take long to appear.");

/** The parsed `expect` block. */
export type SearchExpect = z.output<typeof searchExpectSchema>;

/** One hit, as far as the assertion needs it. */
export interface SearchHit {
  name: string;
  /** 1-based. */
  rank: number;
}

/** Records hits and rank; throws an `assertion` failure when the search worked but did not find what it must. */
export function assertSearch(
  facts: FactRecorder,
  expect: SearchExpect,
  result: { total: number; hits: readonly SearchHit[] },
  phase: string,
): void {
  facts.set(SEARCH_HITS_FACT, result.total);
  const wanted = expect.file_name?.toLowerCase();
  const found = wanted === undefined ? undefined : result.hits.find((h) => h.name.toLowerCase() === wanted);
  if (found !== undefined) facts.set(SEARCH_RANK_FACT, found.rank);
  if (result.total < expect.min_hits) {
    throw assertion(`search found ${result.total} hits, expected at least ${expect.min_hits}`, phase);
  }
  if (expect.file_name !== undefined && found === undefined) {
    throw assertion(`"${expect.file_name}" is not among the ${result.hits.length} hits read`, phase);
  }
}

function assertion(message: string, phase: string): ProbeError {
  return new ProbeError(message, { phase, facts: { protocol: "probe", input: { class: "assertion" } } });
}
