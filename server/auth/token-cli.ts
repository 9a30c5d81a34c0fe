// npm run token -- create --role viewer [--name NAME] | list | revoke ID
import "../load-env-file"; // first: .env is in process.env before the configuration is read
import { parseArgs } from "node:util";
import { ROLES, type Role } from "../../lib/protocol";
import { createPrismaClient } from "../db/client";
import { openDatabase } from "../db/database";
import { applyMigrations } from "../db/migrate";
import { parseEnv } from "../env";
import { createStoredToken } from "./tokens";

const usage = `Usage:
  npm run token -- create --role admin|publisher|viewer [--name NAME]   prints the new token once
  npm run token -- list
  npm run token -- revoke ID`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { role: { type: "string" }, name: { type: "string" } },
});
const [command, arg] = positionals;

const env = parseEnv();
const db = await openDatabase(env);
const prisma = createPrismaClient(db.url, 1);
try {
  await applyMigrations(db.url);
  if (command === "create") {
    const role = values.role as Role;
    if (!ROLES.includes(role)) throw new Error(`--role must be one of ${ROLES.join(", ")}\n${usage}`);
    const { id, token } = await createStoredToken(prisma, role, values.name ?? `${role} token`);
    console.log(`Created ${role} token ${id}. It is shown only now:\n\n  ${token}\n`);
  } else if (command === "list") {
    const rows = await prisma.apiToken.findMany({ orderBy: { createdAt: "asc" } });
    for (const r of rows) {
      console.log(`${r.id}  ${r.role.padEnd(9)}  ${r.revokedAt ? "revoked" : "active "}  ${r.createdAt.toISOString()}  ${r.name}`);
    }
    if (rows.length === 0) console.log("No stored tokens (the bootstrap admin token is not stored).");
  } else if (command === "revoke" && arg) {
    await prisma.apiToken.update({ where: { id: arg }, data: { revokedAt: new Date() } });
    console.log(`Revoked ${arg}. Servers forget it within 30 seconds.`);
  } else {
    throw new Error(usage);
  }
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 1;
} finally {
  await prisma.$disconnect();
  await db.stop();
}
