import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT, api, startServerProcess } from "./support/server-process";
import { tempDir } from "./support/services";

const dir = tempDir("sb-env-file");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeEnvFile(name: string, text: string) {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/** Runs a TypeScript entry point of the project in `cwd` (default the project root) to its exit. */
function run(entry: string, env: NodeJS.ProcessEnv, cwd = PROJECT_ROOT) {
  const tsx = pathToFileURL(path.join(PROJECT_ROOT, "node_modules/tsx/dist/loader.mjs")).href;
  return new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, ["--import", tsx, path.join(PROJECT_ROOT, entry)], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c));
    child.stderr.on("data", (c: Buffer) => (output += c));
    child.on("exit", (code) => resolve({ code, output }));
  });
}

/**
 * The environment without anything the files below set, so only the file can set them; should the
 * process get past its configuration after all, it must not start pages or a database in the project.
 */
const cleanEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env };
  for (const k of ["ENV_FILE", "PORT", "DATABASE_URL", "LOG_LEVEL", "MAX_PAYLOAD_BYTES", "ADMIN_TOKEN"]) delete env[k];
  return { ...env, UI: "0", PORT: "0", DATA_DIR: path.join(dir, "data"), DATABASE_URL: "postgresql://127.0.0.1:1/none" };
};

describe(".env before the configuration is validated", () => {
  it("the server reads ENV_FILE; variables of the real environment win over it", async () => {
    const file = writeEnvFile(
      "server.env",
      "# a small payload limit the test can see, and an admin token the real environment overrides\nMAX_PAYLOAD_BYTES=200\nADMIN_TOKEN=from-the-file-0123456789\n",
    );
    const server = await startServerProcess({ database: "embedded", env: { ENV_FILE: file } });
    try {
      const publish = (token: string, size: number) =>
        api(server, "POST", "/api/v1/channels/tasks/events", { token, body: { type: "task.created", payload: { text: "x".repeat(size) } } });
      // The harness's ADMIN_TOKEN (real environment) is the admin token, not the file's.
      expect((await publish(server.adminToken, 10)).status).toBe(201);
      expect((await publish("from-the-file-0123456789", 10)).status).toBe(401);
      // MAX_PAYLOAD_BYTES came from the file.
      const big = await publish(server.adminToken, 500);
      expect(big.body.error?.code).toBe("payload_too_large");
      expect(big.body.error?.message).toContain("the limit is 200");
    } finally {
      await server.stop();
    }
  });

  it("a malformed file stops the server before it starts, naming the file and the line", async () => {
    const file = writeEnvFile("bad.env", "LOG_LEVEL=warn\nPORT 3000\n");
    const { code, output } = await run("server/main.ts", { ...cleanEnv(), ENV_FILE: file });
    expect(code).toBe(1);
    expect(output).toContain(`Invalid environment file ${file}: line 2 is not NAME=value: "PORT 3000"`);
  });

  it("a CLI reads .env from its working directory before validating the configuration", async () => {
    // An invalid value only the file sets: the CLI's parseEnv must see it (and fail) before it opens any database.
    const cwd = fs.mkdtempSync(path.join(dir, "cli-"));
    fs.writeFileSync(path.join(cwd, ".env"), "LOG_LEVEL=chatty\n");
    const { code, output } = await run("server/db/migrate-cli.ts", cleanEnv(), cwd);
    expect(code).not.toBe(0);
    expect(output).toMatch(/Invalid configuration:\s+LOG_LEVEL/);
  });

  it("a missing .env is fine: the CLI goes on to validate the real environment", async () => {
    const cwd = fs.mkdtempSync(path.join(dir, "none-"));
    const { output } = await run("server/db/migrate-cli.ts", { ...cleanEnv(), LOG_LEVEL: "chatty" }, cwd);
    expect(output).toMatch(/Invalid configuration:\s+LOG_LEVEL/);
    expect(output).not.toContain("environment file");
  });
});
