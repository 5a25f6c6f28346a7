import js from "@eslint/js";
import tseslint from "typescript-eslint";

// Layering (docs/architecture.md). `no-restricted-imports` sees the import specifier, not the resolved path, so each
// folder depth gets its own block: from a file `d` folders below a layer's root, `../` repeated d+1 times leaves it.
// A file deeper than MAX_DEPTH would be unchecked; tests/unit/layering.test.ts fails if one appears.
const MAX_DEPTH = 6;
const leaves = (d) => `^(\\.\\./){${d + 1}}`;

// tests/unit/layering.test.ts asserts these exact messages.
const LAYERING = {
  core: "src/core imports nothing of ours outside src/core: only npm packages and node:*.",
  engine:
    "Only the composition root (src/cli.ts) and the docs generators import probes/; the engine gets kinds passed in.",
  engineOutside: "src/ imports nothing of ours outside src/ (tests/, lab/ and bench/ depend on src/, not the reverse).",
  probes: "probes/ imports only src/core/, probes/ and npm packages.",
  wire: "probes/wire/ never imports a kind file (probes/*.ts): kinds import sessions, not the reverse.",
  lab: "lab/ imports only src/core/ and npm packages.",
};

/** `no-restricted-imports` blocks for every .ts file below `root`, with the patterns for a file `d` folders deep. */
function layer(root, patterns, ignores = []) {
  return Array.from({ length: MAX_DEPTH + 1 }, (_, d) => ({
    files: [`${root}/${"*/".repeat(d)}*.ts`],
    ignores,
    rules: { "no-restricted-imports": ["error", { patterns: patterns(d) }] },
  }));
}

const COMPOSITION_ROOT = ["src/cli.ts", "src/docs/*.ts", "src/config/write-json-schema.ts"];
const engineOutside = (d) => ({ regex: `${leaves(d)}(?!probes/|src/)`, message: LAYERING.engineOutside });
const outsideProbes = (up) => ({ regex: `${leaves(up)}(?!src/core/)`, message: LAYERING.probes });

// Later blocks override earlier ones for the same file, so the stricter inner layers come after their parents.
const layering = [
  ...layer(
    "src",
    (d) => [{ regex: `${leaves(d)}probes/`, message: LAYERING.engine }, engineOutside(d)],
    COMPOSITION_ROOT,
  ),
  // The composition root also starts the outage lab (lab/) and runs the agent in-process beside it.
  {
    files: ["src/cli.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ regex: `${leaves(0)}(?!probes/|src/|lab/)`, message: LAYERING.engineOutside }] },
      ],
    },
  },
  {
    files: COMPOSITION_ROOT.slice(1),
    rules: { "no-restricted-imports": ["error", { patterns: [engineOutside(1)] }] },
  },
  ...layer("src/core", (d) => [{ regex: leaves(d), message: LAYERING.core }]),
  ...layer("probes", (d) => [outsideProbes(d)]),
  ...layer("probes/wire", (d) => [{ regex: `${leaves(d)}[^/]+$`, message: LAYERING.wire }, outsideProbes(d + 1)]),
  ...layer("lab", (d) => [{ regex: `${leaves(d)}(?!src/core/)`, message: LAYERING.lab }]),
];

export default tseslint.config(
  // scripts/*.mjs are small untyped CI helpers run by plain node (before any build); Prettier still checks them.
  { ignores: ["dist/", "node_modules/", "coverage/", "scripts/*.mjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // bin/suiteprobe.js is the one plain JS entry point, outside the TypeScript project.
        projectService: { allowDefaultProject: ["bin/*.js"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/only-throw-error": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", ignoreRestSiblings: true }],
      // A `default:` branch is an explicit decision to handle the rest alike.
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
      "no-console": "error",
    },
  },
  ...layering,
  {
    files: ["src/**/*.ts", "probes/**/*.ts", "lab/**/*.ts"],
    rules: { "max-lines": ["warn", { max: 400, skipBlankLines: true, skipComments: true }] },
  },
  {
    files: ["tests/**/*.ts", "bench/**/*.ts", "scripts/**/*.js"],
    rules: {
      "no-console": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
  { files: ["eslint.config.js"], ...tseslint.configs.disableTypeChecked },
);
