/* eslint-disable no-console -- a docs script */
import { readFileSync, writeFileSync } from "node:fs";
import { PROBE_KINDS } from "../../probes/index.js";
import { configReference, kindTable, metricReference, replaceSection } from "./reference.js";

let readme = readFileSync("README.md", "utf8");
readme = replaceSection(readme, "config-reference", configReference(PROBE_KINDS));
readme = replaceSection(readme, "metric-reference", metricReference(PROBE_KINDS));
readme = replaceSection(readme, "kind-table", kindTable(PROBE_KINDS));
writeFileSync("README.md", readme);
console.log("README.md references regenerated");
