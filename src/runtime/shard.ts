import type { AgentConfig } from "../config/model.js";
import { stableHash } from "./plan.js";

/** This agent's part of a check list split across `count` replicas. */
export interface Shard {
  index: number;
  count: number;
}

/** The whole list: one agent. */
export const NO_SHARD: Shard = { index: 0, count: 1 };

/** Parses `i/n` (0 ≤ i < n ≤ 1000); returns an error message instead of throwing. */
export function parseShard(text: string): Shard | { error: string } {
  const match = /^(\d{1,4})\/(\d{1,4})$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (match === null || count < 1 || count > 1000 || index >= count) {
    return { error: `"${text}" is not i/n with 0 <= i < n <= 1000 (e.g. 0/3, 1/3, 2/3)` };
  }
  return { index, count };
}

/** Whether `check` belongs to `shard`: a hash of its name, so every check lands in exactly one shard. */
export function isInShard(check: string, shard: Shard): boolean {
  return stableHash(check) % shard.count === shard.index;
}

/** The config with only this shard's checks. */
export function selectShard(config: AgentConfig, shard: Shard): AgentConfig {
  if (shard.count === 1) return config;
  return { ...config, checks: config.checks.filter((c) => isInShard(c.name, shard)) };
}
