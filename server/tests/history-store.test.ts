import { describeHistoryStoreContract } from "../history/history-store.contract";
import { MemoryHistoryStore } from "../history/memory-store";
import { PostgresHistoryStore } from "../history/postgres-store";
import { createPool } from "../db/client";
import { applyMigrations } from "../db/migrate";
import { createScratchDatabase, machinePostgresAvailable, type TestDatabase } from "./support/services";

async function openPostgresStore(db: TestDatabase) {
  await applyMigrations(db.url);
  const pool = createPool(db.url, 4, (err) => console.error("idle connection failed", err));
  const store = new PostgresHistoryStore(pool);
  return {
    store,
    close: async () => {
      await store.stop();
      await pool.end();
      await db.drop();
    },
  };
}

describeHistoryStoreContract("memory", async () => ({ store: new MemoryHistoryStore(), close: async () => {} }));
describeHistoryStoreContract("PostgreSQL, embedded", async () => openPostgresStore(await createScratchDatabase({ kind: "embedded" })));
describeHistoryStoreContract("PostgreSQL, the server", async () => {
  if (!(await machinePostgresAvailable())) return null;
  return openPostgresStore(await createScratchDatabase());
});
