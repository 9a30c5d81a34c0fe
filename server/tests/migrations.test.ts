import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, MIGRATIONS_DIR } from "../db/migrate";
import { createScratchDatabase, machinePostgresAvailable, tempDir, type TestDatabase } from "./support/services";

const available = await machinePostgresAvailable();

describe.runIf(available)("migration runner (PostgreSQL server)", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createScratchDatabase();
  });
  afterAll(() => db?.drop());

  it("applies every migration once, even when several nodes start at the same time", async () => {
    const reports = await Promise.all([applyMigrations(db.url), applyMigrations(db.url), applyMigrations(db.url)]);
    const migrations = fs.readdirSync(MIGRATIONS_DIR).filter((d) => fs.statSync(path.join(MIGRATIONS_DIR, d)).isDirectory());
    expect(reports.flatMap((r) => r.applied).sort()).toEqual(migrations.sort());
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const rows = await client.query(`SELECT migration_name, finished_at FROM "_prisma_migrations"`);
    await client.end();
    expect(rows.rows).toHaveLength(migrations.length);
    expect(rows.rows.every((r) => r.finished_at)).toBe(true);
    expect((await applyMigrations(db.url)).applied).toEqual([]);
  });

  it("refuses to start when an applied migration was edited", async () => {
    const dir = tempDir("sb-migrations");
    for (const name of fs.readdirSync(MIGRATIONS_DIR)) fs.cpSync(path.join(MIGRATIONS_DIR, name), path.join(dir, name), { recursive: true });
    const first = fs.readdirSync(dir).find((d) => fs.statSync(path.join(dir, d)).isDirectory())!;
    fs.appendFileSync(path.join(dir, first, "migration.sql"), "\n-- edited\n");
    await expect(applyMigrations(db.url, dir)).rejects.toThrow(/changed after it was applied/);
  });

  it("rolls back a failing migration and records nothing for it", async () => {
    const dir = tempDir("sb-migrations");
    for (const name of fs.readdirSync(MIGRATIONS_DIR)) fs.cpSync(path.join(MIGRATIONS_DIR, name), path.join(dir, name), { recursive: true });
    fs.mkdirSync(path.join(dir, "99990101000000_broken"));
    fs.writeFileSync(path.join(dir, "99990101000000_broken", "migration.sql"), "CREATE TABLE half_done (id int);\nSELECT no_such_function();\n");
    await expect(applyMigrations(db.url, dir)).rejects.toThrow(/99990101000000_broken failed and was rolled back/);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const table = await client.query(`SELECT to_regclass('half_done') AS t`);
    const recorded = await client.query(`SELECT 1 FROM "_prisma_migrations" WHERE migration_name = '99990101000000_broken'`);
    await client.end();
    expect(table.rows[0].t).toBeNull();
    expect(recorded.rowCount).toBe(0);
  });
});
