import { describeHistoryStoreContract } from "../history/history-store.contract";
import { MemoryHistoryStore } from "../history/memory-store";
import { PrismaHistoryStore } from "../history/prisma-store";
import { createPrismaClient } from "../db/client";
import { applyMigrations } from "../db/migrate";
import { createEmbeddedDatabase, createMachineDatabase, machinePostgresAvailable, type TestDatabase } from "./support/services";

async function openPrismaStore(db: TestDatabase) {
  await applyMigrations(db.url);
  const prisma = createPrismaClient(db.url, 4);
  const store = new PrismaHistoryStore(prisma);
  return {
    store,
    close: async () => {
      await store.stop();
      await db.drop();
    },
  };
}

describeHistoryStoreContract("memory", async () => ({ store: new MemoryHistoryStore(), close: async () => {} }));
describeHistoryStoreContract("Prisma on the embedded PostgreSQL", async () => openPrismaStore(await createEmbeddedDatabase()));
describeHistoryStoreContract("Prisma on the PostgreSQL server", async () => {
  if (!(await machinePostgresAvailable())) return null;
  return openPrismaStore(await createMachineDatabase());
});
