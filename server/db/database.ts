import type { Env } from "../env";
import { startEmbeddedDatabase } from "./embedded";

export interface Database {
  url: string;
  kind: "embedded" | "external";
  stop(): Promise<void>;
}

/** DATABASE_URL when set, else the embedded PostgreSQL under DATA_DIR. */
export async function openDatabase(env: Pick<Env, "DATABASE_URL" | "DATA_DIR" | "EMBEDDED_PG_PORT">, log?: (m: string) => void): Promise<Database> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, kind: "external", stop: async () => {} };
  const embedded = await startEmbeddedDatabase({ dataDir: env.DATA_DIR, port: env.EMBEDDED_PG_PORT, log });
  return { url: embedded.url, kind: "embedded", stop: embedded.stop };
}
