/**
 * The one classifier: every failure goes through `classifyFailure` (or `classify` with facts) once, in the runner.
 * Rule tables live in ./classify/*.ts; docs/classification.md describes the classes, precedence and codes.
 */
export { classify } from "./classify/dispatch.js";
export { classifyFailure } from "./classify/failure.js";
export { isBoundedCode } from "./classify/codes.js";
