/* eslint-disable no-console -- a build script */
import { writeFileSync } from "node:fs";
import { PROBE_KINDS } from "../../probes/index.js";
import { SCHEMA_PATH, configJsonSchema } from "./json-schema.js";

writeFileSync(SCHEMA_PATH, `${JSON.stringify(configJsonSchema(PROBE_KINDS), null, 2)}\n`);
console.log(`wrote ${SCHEMA_PATH}`);
