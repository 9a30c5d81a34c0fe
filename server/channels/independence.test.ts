import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ESLint } from "eslint";
import { afterAll, describe, expect, it } from "vitest";

/**
 * The core imports nothing but itself, lib/protocol and Node built-ins (eslint.config.mjs): proven
 * by linting files that break the rule, written where core code lives, with the project's own
 * configuration, as `npm run lint` does.
 */
const root = path.resolve(import.meta.dirname, "../..");
const written: string[] = [];

async function lintProbe(dir: string, source: string) {
  const file = path.join(root, dir, `__independence-probe-${randomBytes(4).toString("hex")}.ts`);
  written.push(file);
  fs.writeFileSync(file, source);
  const [result] = await new ESLint({ cwd: root }).lintFiles([file]);
  return result!.messages.map((m) => ({ rule: m.ruleId, line: m.line, message: m.message }));
}

afterAll(() => {
  for (const file of written) fs.rmSync(file, { force: true });
});

describe("server/channels imports nothing but itself, lib/protocol and Node built-ins", { timeout: 120_000 }, () => {
  it("fails lint on a package import", async () => {
    const messages = await lintProbe("server/channels", `import pg from "pg";\n\nexport const probe = pg;\n`);
    expect(messages).toEqual([expect.objectContaining({ rule: "no-restricted-imports", line: 1, message: expect.stringContaining("server/channels is the core") })]);
  });

  it("fails lint on an import of the history store's implementation", async () => {
    const messages = await lintProbe("server/channels", `import { PostgresHistoryStore } from "../history/postgres-store";\n\nexport const probe = PostgresHistoryStore;\n`);
    expect(messages).toEqual([expect.objectContaining({ rule: "no-restricted-imports", line: 1 })]);
  });

  it("fails lint on ioredis or a transport in a backend", async () => {
    const messages = await lintProbe(
      "server/channels/backends",
      `import { Redis } from "ioredis";\nimport { attachSocketGateway } from "../../transport/socket-gateway";\n\nexport const probe = [Redis, attachSocketGateway];\n`,
    );
    expect(messages.map((m) => [m.rule, m.line])).toEqual([
      ["no-restricted-imports", 1],
      ["no-restricted-imports", 2],
    ]);
  });

  it("passes lint on what the core may import", async () => {
    const messages = await lintProbe(
      "server/channels/backends",
      `import { randomUUID } from "node:crypto";\nimport { PROTOCOL_VERSION } from "../../../lib/protocol";\nimport type { FanoutBackend } from "../fanout";\nimport { MemoryFanout } from "./memory";\n\nexport const probe: [string, number, FanoutBackend] = [randomUUID(), PROTOCOL_VERSION, new MemoryFanout()];\n`,
    );
    expect(messages).toEqual([]);
  });
});
