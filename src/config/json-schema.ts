import { z } from "zod";
import type { AnyProbeKind } from "../core/probe.js";
import { buildConfigSchema } from "./schema.js";

/** Where the committed schema lives; a test keeps it equal to the generated one. */
export const SCHEMA_PATH = "config/suiteprobe.schema.json";

/** The JSON Schema of the config file (input side: what users write), for editors. */
export function configJsonSchema(kinds: readonly AnyProbeKind[]): Record<string, unknown> {
  const schema = z.toJSONSchema(buildConfigSchema(kinds), { io: "input", unrepresentable: "any" });
  return { ...schema, $id: "https://suiteprobe.invalid/config.schema.json", title: "suiteprobe configuration" };
}
