/** `npm run deploy:gen`: writes every generated deploy file (see generate.ts). */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { generatedFiles } from "./generate.js";

const root = join(import.meta.dirname, "../..");
for (const [path, text] of Object.entries(await generatedFiles())) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
  process.stdout.write(`wrote ${path}\n`);
}
