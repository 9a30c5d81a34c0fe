import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/client";

export type { PrismaClient };
export type Pool = pg.Pool;

/**
 * The connection pool the server shares between the event store (which speaks SQL to `pg` directly:
 * docs/decisions/0008) and Prisma (tokens, views). Errors of idle connections (the database
 * restarting, say) go to `onIdleError` instead of crashing the process; the next query reconnects.
 */
export function createPool(databaseUrl: string, max: number, onIdleError: (err: Error) => void): Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max });
  pool.on("error", onIdleError);
  return pool;
}

/**
 * Prisma over `pg`, no native engine. Given a pool, Prisma uses it and leaves closing it to its
 * owner; given a URL, it opens a pool of its own.
 */
export function createPrismaClient(poolOrUrl: Pool | string, poolSize = 10): PrismaClient {
  const adapter = typeof poolOrUrl === "string" ? new PrismaPg({ connectionString: poolOrUrl, max: poolSize }) : new PrismaPg(poolOrUrl);
  return new PrismaClient({ adapter });
}
