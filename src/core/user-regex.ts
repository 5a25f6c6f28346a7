/**
 * Regular expressions from the config (e.g. `expect_banner`) run on RE2JS, a pure-JavaScript port of RE2: matching
 * time is linear in the input, so no pattern can hold the event loop (a backtracking `(a+)+$` would, for minutes),
 * and the input is capped. RE2 syntax: no backreferences or lookaround, repeat counts up to 1000.
 */
import { RE2JS } from "re2js";
import { z } from "zod";

/** Most characters of server text a user regex is applied to (the first ones); bounds even a linear engine. */
export const MAX_USER_REGEX_INPUT_CHARS = 16 * 1024;

/** Why `pattern` is not a usable RE2 expression, or undefined when it is. */
export function userRegexProblem(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    return text.replace(/^error parsing regexp: /, "");
  }
}

/** A config string holding an RE2 regular expression, refused at load with the parser's reason. */
export const userRegex = z.string().superRefine((pattern, ctx) => {
  const problem = userRegexProblem(pattern);
  if (problem !== undefined) {
    ctx.addIssue({
      code: "custom",
      message: `must be an RE2 regular expression (no backreferences or lookaround): ${problem}`,
    });
  }
});

/** Compiles a pattern that passed `userRegex`; reuse the result for repeated tests. */
export function compileUserRegex(pattern: string): RE2JS {
  return RE2JS.compile(pattern);
}

/** Whether `regex` matches anywhere in the first MAX_USER_REGEX_INPUT_CHARS characters of `text`. */
export function testUserRegex(regex: RE2JS, text: string): boolean {
  return regex.test(text.length > MAX_USER_REGEX_INPUT_CHARS ? text.slice(0, MAX_USER_REGEX_INPUT_CHARS) : text);
}
