import fs from "node:fs";
import path from "node:path";

/**
 * Reads a `.env` file into `process.env` before anything validates the configuration: the server and
 * every CLI import server/load-env-file.ts first, which calls this.
 *
 * - The file is `ENV_FILE` if set (relative to the working directory), else `.env` in the working
 *   directory. A missing `.env` is fine; a missing file that `ENV_FILE` names is an error.
 * - Variables already set in the real environment win over the file.
 * - Lines are `NAME=value` (optionally `export NAME=value`), comments (`#`) and blank lines; a quoted
 *   value may span lines. Anything else is an error naming the line: Node's parser would otherwise
 *   silently fold a stray line into the next variable's name.
 */
export function loadEnvFile(options: { cwd?: string } = {}): { path: string; loaded: boolean } {
  const named = process.env.ENV_FILE;
  const file = path.resolve(options.cwd ?? process.cwd(), named || ".env");
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !named) return { path: file, loaded: false };
    throw new Error(`Cannot read the environment file ${file}${named ? " (ENV_FILE)" : ""}: ${(err as Error).message}`, { cause: err });
  }
  const problem = envFileProblem(text);
  if (problem) throw new Error(`Invalid environment file ${file}: ${problem}`);
  const real = { ...process.env };
  process.loadEnvFile(file);
  // Node keeps existing variables too; restoring them makes "the real environment wins" explicit.
  Object.assign(process.env, real);
  return { path: file, loaded: true };
}

const ASSIGNMENT = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;

/** The first line that is not a comment, a blank line or `NAME=value`, described; null if none. */
export function envFileProblem(text: string): string | null {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = ASSIGNMENT.exec(line);
    if (!match) return `line ${i + 1} is not NAME=value: ${JSON.stringify(line.length > 60 ? `${line.slice(0, 60)}…` : line)}`;
    const [, name, value] = match as unknown as [string, string, string];
    const quote = value[0];
    if ((quote === '"' || quote === "'" || quote === "`") && value.indexOf(quote, 1) === -1) {
      // A quoted value that spans lines: skip to the line that closes it.
      const closing = lines.findIndex((l, j) => j > i && l.includes(quote));
      if (closing === -1) return `line ${i + 1}: the quoted value of ${name} is never closed`;
      i = closing;
    }
  }
  return null;
}
