// node --import tsx e2e/support/test-database.ts create|drop NAME – a database of the e2e run's own on
// the machine's PostgreSQL (TEST_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/postgres).
import pg from "pg";

const [command, name] = process.argv.slice(2);
if (!name || !/^[a-z0-9_]+$/.test(name) || (command !== "create" && command !== "drop")) {
  console.error("usage: test-database.ts create|drop NAME (lower-case letters, digits, _)");
  process.exit(2);
}
const client = new pg.Client({ connectionString: process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres" });
await client.connect();
try {
  if (command === "create") await client.query(`CREATE DATABASE "${name}"`);
  else await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
} finally {
  await client.end();
}
