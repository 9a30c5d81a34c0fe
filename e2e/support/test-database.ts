// node --import tsx e2e/support/test-database.ts create|drop NAME – a database of the e2e run's own on
// the machine's PostgreSQL (TEST_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/postgres),
// made and dropped by the project's one scratch-database helper (server/tests/support/services.ts).
// A command, because playwright.config.ts needs the database before it returns (synchronously).
import { SCRATCH_DATABASE_NAME, createScratchDatabase, dropScratchDatabase } from "../../server/tests/support/services";

const [command, name] = process.argv.slice(2);
if (!name || !SCRATCH_DATABASE_NAME.test(name) || (command !== "create" && command !== "drop")) {
  console.error("usage: test-database.ts create|drop NAME (lower-case letters, digits, _)");
  process.exit(2);
}
if (command === "create") await createScratchDatabase({ name });
else await dropScratchDatabase(name);
