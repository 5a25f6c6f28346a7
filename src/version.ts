import { readFileSync } from "node:fs";

/** suiteprobe's version from package.json, found by walking up from this file (src/ or dist/src/). */
export function readVersion(): string {
  let dir = new URL(".", import.meta.url);
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL("package.json", dir), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "suiteprobe" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // not here; look one level up
    }
    dir = new URL("..", dir);
  }
  return "unknown";
}
