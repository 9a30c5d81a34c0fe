// npm run db:migrate – applies pending migrations to DATABASE_URL, or to the embedded database.
import "../load-env-file"; // first: .env is in process.env before the configuration is read
import { parseEnv } from "../env";
import { openDatabase } from "./database";
import { applyMigrations } from "./migrate";

const env = parseEnv();
const db = await openDatabase(env);
try {
  const report = await applyMigrations(db.url);
  console.log(
    report.applied.length
      ? `Applied ${report.applied.length} migration(s): ${report.applied.join(", ")}`
      : `Database is up to date (${report.alreadyApplied} migration(s) applied earlier).`,
  );
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 1;
} finally {
  await db.stop();
}
