// `npm run demo`'s first step: installs and builds only what is out of date, so a second run with
// nothing changed starts at once. Plain JavaScript with Node built-ins only: it runs before
// node_modules (and with it tsx) exists.
//
// - `npm ci` when node_modules is missing or was installed from another package-lock.json (a stamp
//   in node_modules records the lockfile's hash; `npm ci` deletes node_modules, and the stamp with it);
// - `prisma generate` when prisma/schema.prisma changed since the client was generated (`npm ci`
//   generates it too, in postinstall);
// - `next build` when the sources that feed the build changed since the last one (a stamp in .next
//   records their hash), or .next has no complete build.
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import console from "node:console";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";

export const INSTALL_STAMP = "node_modules/.switchboard-demo-install";
export const GENERATE_STAMP = "server/db/generated/.switchboard-demo-schema";
export const BUILD_STAMP = ".next/switchboard-demo-build";

/**
 * What `next build` reads: the pages and what they import (lib/ never imports server/), the
 * configuration, the dependencies, and the `.env` files Next.js inlines `NEXT_PUBLIC_*` from.
 * server/ is not part of the build's output. next-env.d.ts is left out: the build writes it.
 */
export const BUILD_INPUTS = [
  "app",
  "components",
  "lib",
  "public",
  "next.config.mjs",
  "next.config.js",
  "next.config.ts",
  "postcss.config.mjs",
  "tsconfig.json",
  "package.json",
  "package-lock.json",
  ".env",
  ".env.local",
  ".env.production",
  ".env.production.local",
];

/** Every file under `entries` (files or directories, relative to root), sorted, hashed with its path. */
export function hashFiles(root, entries) {
  const hash = createHash("sha256");
  const visit = (relative) => {
    const full = path.join(root, relative);
    let stat;
    try {
      stat = fs.statSync(full);
    } catch {
      hash.update(`missing ${relative}\n`);
      return;
    }
    if (stat.isDirectory()) {
      for (const name of fs.readdirSync(full).sort()) visit(path.posix.join(relative, name));
    } else {
      const content = fs.readFileSync(full);
      hash.update(`file ${relative} ${content.length}\n`).update(content);
    }
  };
  for (const entry of [...entries].sort()) visit(entry);
  return hash.digest("hex");
}

/** What node_modules depends on: the lockfile, and the platform and Node ABI the native packages are for. */
export function installKey(root) {
  return `${hashFiles(root, ["package-lock.json"])} ${process.platform}-${process.arch} abi${process.versions.modules}`;
}

/** What a build depends on: the input files and the `NEXT_PUBLIC_*` variables it inlines. */
export function buildKey(root, env = process.env) {
  const publicVars = Object.keys(env)
    .filter((k) => k.startsWith("NEXT_PUBLIC_"))
    .sort()
    .map((k) => `${k}=${env[k]}`)
    .join("\n");
  return `${hashFiles(root, BUILD_INPUTS)} ${createHash("sha256").update(publicVars).digest("hex")}`;
}

export const schemaKey = (root) => hashFiles(root, ["prisma/schema.prisma"]);

const readStamp = (root, stamp) => {
  try {
    return fs.readFileSync(path.join(root, stamp), "utf8").trim();
  } catch {
    return null;
  }
};

/** Writes a stamp (after its step succeeded). */
export function writeStamp(root, stamp, key) {
  fs.mkdirSync(path.dirname(path.join(root, stamp)), { recursive: true });
  fs.writeFileSync(path.join(root, stamp), `${key}\n`);
}

/**
 * Which steps are needed, each with the reason, or null when it is up to date.
 * @returns {{ install: string | null, generate: string | null, build: string | null }}
 */
export function plan(root, env = process.env) {
  let install = null;
  if (!fs.existsSync(path.join(root, "node_modules"))) install = "node_modules is missing";
  else {
    const stamp = readStamp(root, INSTALL_STAMP);
    if (stamp === null) install = "no record of the package-lock.json node_modules was installed from";
    else if (stamp !== installKey(root)) install = "package-lock.json (or the platform) changed since the last install";
  }

  let generate = null;
  if (!install) {
    const stamp = readStamp(root, GENERATE_STAMP);
    if (stamp === null) generate = "no record of the schema the Prisma client was generated from";
    else if (stamp !== schemaKey(root)) generate = "prisma/schema.prisma changed since the Prisma client was generated";
  }

  let build = null;
  if (!fs.existsSync(path.join(root, ".next", "BUILD_ID"))) build = ".next holds no complete production build";
  else {
    const stamp = readStamp(root, BUILD_STAMP);
    if (stamp === null) build = "no record of the sources the build in .next was made from";
    else if (stamp !== buildKey(root, env)) build = "the sources of the build changed since the last build";
  }
  return { install, generate, build };
}

function run(root, args) {
  const result = spawnSync("npm", args, {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1", CHECKPOINT_DISABLE: "1" },
    shell: process.platform === "win32",
  });
  if (result.status !== 0) {
    console.error(`npm ${args.join(" ")} failed${result.error ? `: ${result.error.message}` : ""}`);
    process.exit(result.status ?? 1);
  }
}

export function prepare(root) {
  const steps = plan(root);
  const say = (message) => console.log(`==> ${message}`);
  if (steps.install) {
    say(`npm ci: ${steps.install}`);
    run(root, ["ci"]);
    writeStamp(root, INSTALL_STAMP, installKey(root));
    writeStamp(root, GENERATE_STAMP, schemaKey(root)); // postinstall ran prisma generate
  } else say("dependencies up to date (package-lock.json unchanged since npm ci): no install");
  if (steps.generate) {
    say(`prisma generate: ${steps.generate}`);
    run(root, ["exec", "--", "prisma", "generate"]);
    writeStamp(root, GENERATE_STAMP, schemaKey(root));
  }
  if (steps.build) {
    say(`next build: ${steps.build}`);
    run(root, ["run", "build"]);
    // After the build: it may rewrite inputs of its own (tsconfig.json), and the stamp must match them.
    writeStamp(root, BUILD_STAMP, buildKey(root));
  } else say("build up to date (no source changed since the last build): no build");
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  prepare(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../.."));
}
