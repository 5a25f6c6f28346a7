import { describe, expect, it } from "vitest";
import { isInShard } from "../../src/runtime/shard.js";
import { runCli, writeConfig } from "../helpers/cli.js";

const NAMES = Array.from({ length: 12 }, (_, i) => `c${i}`);
const config = () =>
  writeConfig(
    `checks:\n${NAMES.map((n) => `  - { name: ${n}, kind: smtp, target: "127.0.0.1:1", smtp: { tls: none } }`).join("\n")}\n`,
  );

describe("--shard and SUITEPROBE_SHARD", () => {
  it("n agents split one check list with no overlap and no gaps", async () => {
    const path = config();
    const seen: string[] = [];
    for (const index of [0, 1, 2]) {
      const result = await runCli(["once", "--config", path, "--json", "--shard", `${index}/3`]);
      const names = result.stdout
        .trim()
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => (JSON.parse(l) as { check: string }).check);
      expect(names.sort()).toEqual(NAMES.filter((n) => isInShard(n, { index, count: 3 })).sort());
      seen.push(...names);
    }
    expect(seen.sort()).toEqual([...NAMES].sort());
  });

  it("takes the shard from SUITEPROBE_SHARD, the flag winning, and refuses a bad one with exit 2", async () => {
    const path = config();
    const fromEnv = await runCli(["check-config", "--config", path], {
      env: { ...process.env, SUITEPROBE_SHARD: "1/2" },
    });
    const mine = NAMES.filter((n) => isInShard(n, { index: 1, count: 2 }));
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).toContain(`${mine.length} check`);
    const bad = await runCli(["check-config", "--config", path, "--shard", "2/2"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--shard/SUITEPROBE_SHARD: "2/2" is not i/n');
  });
});
