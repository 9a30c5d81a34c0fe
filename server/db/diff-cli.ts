// npm run db:diff [-- <git ref>] – prints the SQL that takes the schema at <git ref> (default HEAD) to
// prisma/schema.prisma, without any database (docs/decisions/0002-migrations-offline.md). Save it as
// prisma/migrations/<timestamp>_<name>/migration.sql.
import "../load-env-file"; // first, like the server and the other CLIs
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const ref = process.argv[2] ?? "HEAD";
const previous = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sb-schema-")), "schema.prisma");
fs.writeFileSync(previous, execFileSync("git", ["show", `${ref}:prisma/schema.prisma`], { encoding: "utf8" }));
const sql = execFileSync(
  "npx",
  ["prisma", "migrate", "diff", "--from-schema-datamodel", previous, "--to-schema-datamodel", "prisma/schema.prisma", "--script"],
  { encoding: "utf8", env: { ...process.env, CHECKPOINT_DISABLE: "1" }, stdio: ["ignore", "pipe", "inherit"] },
);
process.stdout.write(sql.replace(/^Loaded Prisma config.*\n/m, ""));
