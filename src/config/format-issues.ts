import type { z } from "zod";

const SENSITIVE_KEY = /pass|secret|token|key|credential|auth/i;

/** `checks[2].<kind>.port` from a zod path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const part of path) {
    if (typeof part === "number") text += `[${part}]`;
    else text += text === "" ? String(part) : `.${String(part)}`;
  }
  return text === "" ? "(root)" : text;
}

/** A value as shown in an error: short, and never the value of a field whose name suggests a secret. */
function show(value: unknown, key: PropertyKey | undefined): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof key === "string" && SENSITIVE_KEY.test(key)) return `a ${typeof value}`;
  const text = JSON.stringify(value) ?? typeof value;
  return text.length > 60 ? `${text.slice(0, 57)}..."` : text;
}

function oneIssue(issue: z.core.$ZodIssue): string[] {
  const path = formatPath(issue.path);
  const key = issue.path.at(-1);
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return [`${path}: is required`];
      return [`${path}: expected ${issue.expected}, got ${show(issue.input, key)}`];
    case "unrecognized_keys":
      return issue.keys.map((name) => `${formatPath([...issue.path, name])}: unknown field`);
    case "invalid_value":
      return [
        `${path}: expected ${issue.values.map((v) => JSON.stringify(v)).join(" | ")}, got ${show(issue.input, key)}`,
      ];
    case "invalid_key":
      return issue.issues.map((sub) => `${path}: ${sub.message}`);
    case "invalid_union":
      if ("discriminator" in issue && issue.discriminator !== undefined) {
        const options = (issue as { options?: unknown[] }).options ?? [];
        const given = (issue.input as Record<string, unknown> | undefined)?.[issue.discriminator];
        return given === undefined
          ? [`${path}: is required (one of ${options.join(", ")})`]
          : [`${path}: unknown kind ${show(given, undefined)} (known: ${options.join(", ")})`];
      }
      return [`${path}: ${issue.message}`];
    default:
      return [`${path}: ${issue.message}`];
  }
}

/** One line per problem, `path: message`, in document order. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.flatMap(oneIssue);
}
