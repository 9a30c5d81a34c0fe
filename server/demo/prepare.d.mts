// Types of prepare.mjs (plain JavaScript: it runs before node_modules exists).
export const INSTALL_STAMP: string;
export const GENERATE_STAMP: string;
export const BUILD_STAMP: string;
export const BUILD_INPUTS: readonly string[];
export function hashFiles(root: string, entries: readonly string[]): string;
export function installKey(root: string): string;
export function buildKey(root: string, env?: Readonly<Record<string, string | undefined>>): string;
export function schemaKey(root: string): string;
export function writeStamp(root: string, stamp: string, key: string): void;
export interface Plan {
  /** Why `npm ci` must run, or null. */
  install: string | null;
  /** Why `prisma generate` must run, or null (also null when `npm ci` runs: it generates). */
  generate: string | null;
  /** Why `next build` must run, or null. */
  build: string | null;
}
export function plan(root: string, env?: Readonly<Record<string, string | undefined>>): Plan;
export function prepare(root: string): void;
