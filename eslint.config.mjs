import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import tseslint from "typescript-eslint";

/** Bare package names other than Node built-ins (`node:…`): the core uses no package. */
const noPackages = { regex: "^(?!node:|\\.)", message: "server/channels is the core: it imports only itself, lib/protocol and node: built-ins. Pass what it needs in through an interface (see server/channels/fanout.ts)." };
/**
 * Anything outside server/channels, reached from a file `depth` folders below it, except the
 * isomorphic protocol (lib/protocol, and lib/payload-rules, its payload rules, which import nothing).
 */
const noOutside = (depth) => ({
  regex: `^${"\\.\\./".repeat(depth + 1)}(?!\\.\\./lib/(protocol|payload-rules)$)`,
  message: "server/channels is the core: it imports only itself, lib/protocol and node: built-ins. Move the shared type into server/channels, or have the edge pass the implementation in.",
});
/** Test files of the core may also use the test tools (vitest, fast-check, ESLint for the lint test), server/testing and the in-memory history store. */
const testAllowance = { regex: "^(?!node:|\\.|vitest$|fast-check$|eslint$)", message: noPackages.message };
const testOutside = (depth) => ({
  regex: `^${"\\.\\./".repeat(depth + 1)}(?!\\.\\./lib/(protocol|payload-rules)$|history/memory-store$|testing/)`,
  message: noOutside(depth).message,
});

export default tseslint.config(
  { ignores: ["node_modules/", ".next/", ".data/", "server/db/generated/", "next-env.d.ts", "test-results/", "playwright-report/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.{ts,tsx}"],
    plugins: { "react-hooks": reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // Type-aware rules for the server only: a promise nobody awaits or catches is a crash or a lost error.
    files: ["server/**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { "@typescript-eslint/no-floating-promises": "error" },
  },
  {
    // lib/ is shared with the browser: it must never reach into the server.
    files: ["lib/**/*.{ts,tsx}", "app/**/*.{ts,tsx}", "components/**/*.{ts,tsx}"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["**/server/**", "../server/*"], message: "Browser code must not import server modules." }] }],
    },
  },
  // The core (docs/decisions/0001): server/channels imports nothing but itself, lib/protocol and
  // Node built-ins; the history store, Redis and the transports depend on it, never the reverse.
  // One block per folder depth, since a relative path's way out of server/channels depends on it.
  ...[0, 1, 2, 3].flatMap((depth) => {
    const dir = `server/channels/${"*/".repeat(depth)}`;
    const tests = [`${dir}*.test.ts`, `${dir}*.contract.ts`];
    return [
      {
        files: [`${dir}*.ts`],
        ignores: tests,
        rules: {
          "no-restricted-imports": ["error", { patterns: [noPackages, noOutside(depth)] }],
          "no-restricted-syntax": ["error", { selector: "ImportExpression", message: "The core imports statically, so that lint can check what it imports." }],
        },
      },
      { files: tests, rules: { "no-restricted-imports": ["error", { patterns: [testAllowance, testOutside(depth)] }] } },
    ];
  }),
);
