import { execFileSync } from "node:child_process";

/** Builds dist/ once, so end-to-end tests start the CLI exactly as users run it. */
export default function setup(): void {
  execFileSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"], {
    stdio: "inherit",
  });
}
