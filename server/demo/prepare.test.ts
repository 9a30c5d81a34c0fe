import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BUILD_STAMP, GENERATE_STAMP, INSTALL_STAMP, buildKey, installKey, plan, schemaKey, writeStamp } from "./prepare.mjs";

/** A project as `npm run demo` sees it: sources, a lockfile, a schema. */
let root: string;
const write = (relative: string, content: string) => {
  fs.mkdirSync(path.dirname(path.join(root, relative)), { recursive: true });
  fs.writeFileSync(path.join(root, relative), content);
};
const env = {};

/** What a complete run leaves behind: node_modules with its stamp, the generated client, a build. */
function afterFullRun() {
  fs.mkdirSync(path.join(root, "node_modules"), { recursive: true });
  writeStamp(root, INSTALL_STAMP, installKey(root));
  writeStamp(root, GENERATE_STAMP, schemaKey(root));
  write(".next/BUILD_ID", "abc");
  writeStamp(root, BUILD_STAMP, buildKey(root, env));
}

const nothing = { install: null, generate: null, build: null };

describe("npm run demo: what to install and build", () => {
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "sb-prepare-"));
    write("package.json", '{"name":"x"}');
    write("package-lock.json", '{"lockfileVersion":3,"packages":{"node_modules/a":{"version":"1.0.0"}}}');
    write("prisma/schema.prisma", "model A { id Int @id }");
    write("app/page.tsx", "export default function Page() {}");
    write("components/a.tsx", "export const A = 1;");
    write("lib/protocol.ts", "export const V = 1;");
    write("next.config.mjs", "export default {};");
    write("tsconfig.json", "{}");
    write("server/main.ts", "// not part of the build");
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it("the first run (no node_modules, no .next) does everything", () => {
    const steps = plan(root, env);
    expect(steps.install).toBe("node_modules is missing");
    expect(steps.generate).toBeNull(); // npm ci generates the client in postinstall
    expect(steps.build).toBe(".next holds no complete production build");
  });

  it("a second run with nothing changed does nothing", () => {
    afterFullRun();
    expect(plan(root, env)).toEqual(nothing);
  });

  it("node_modules installed some other way (no stamp) is installed again, once", () => {
    afterFullRun();
    fs.rmSync(path.join(root, INSTALL_STAMP));
    expect(plan(root, env).install).toMatch(/no record/);
  });

  it("a changed package-lock.json reinstalls and rebuilds", () => {
    afterFullRun();
    write("package-lock.json", '{"lockfileVersion":3,"packages":{"node_modules/a":{"version":"1.0.1"}}}');
    const steps = plan(root, env);
    expect(steps.install).toMatch(/package-lock\.json/);
    expect(steps.build).toMatch(/sources of the build changed/);
  });

  it.each(["app/page.tsx", "components/a.tsx", "lib/protocol.ts", "next.config.mjs", "tsconfig.json", "package.json"])(
    "a change to %s rebuilds, without reinstalling",
    (file) => {
      afterFullRun();
      write(file, fs.readFileSync(path.join(root, file), "utf8") + "\n// changed");
      expect(plan(root, env)).toEqual({ ...nothing, build: "the sources of the build changed since the last build" });
    },
  );

  it("a new file, a removed file or a new .env under the build inputs rebuilds", () => {
    afterFullRun();
    write("app/new/page.tsx", "export default 1;");
    expect(plan(root, env).build).not.toBeNull();
    afterFullRun();
    fs.rmSync(path.join(root, "components/a.tsx"));
    expect(plan(root, env).build).not.toBeNull();
    afterFullRun();
    write(".env", "NEXT_PUBLIC_X=1");
    expect(plan(root, env).build).not.toBeNull();
  });

  it("a renamed file rebuilds (paths are part of the hash, not only contents)", () => {
    afterFullRun();
    fs.renameSync(path.join(root, "lib/protocol.ts"), path.join(root, "lib/protocol2.ts"));
    expect(plan(root, env).build).not.toBeNull();
  });

  it("a change outside the build (server/) neither reinstalls nor rebuilds", () => {
    afterFullRun();
    write("server/main.ts", "// changed");
    write("server/new.ts", "export {};");
    expect(plan(root, env)).toEqual(nothing);
  });

  it("a different NEXT_PUBLIC_* variable rebuilds; other variables do not", () => {
    afterFullRun();
    expect(plan(root, { OTHER: "x" })).toEqual(nothing);
    expect(plan(root, { NEXT_PUBLIC_API: "x" }).build).not.toBeNull();
  });

  it("a changed Prisma schema regenerates the client only", () => {
    afterFullRun();
    write("prisma/schema.prisma", "model A { id Int @id\n name String }");
    expect(plan(root, env)).toEqual({ ...nothing, generate: "prisma/schema.prisma changed since the Prisma client was generated" });
  });

  it("an incomplete .next (no BUILD_ID, e.g. an interrupted build) rebuilds, even with a matching stamp", () => {
    afterFullRun();
    fs.rmSync(path.join(root, ".next/BUILD_ID"));
    expect(plan(root, env).build).toBe(".next holds no complete production build");
  });

  it("a build made without this script (no stamp) is rebuilt, once", () => {
    afterFullRun();
    fs.rmSync(path.join(root, BUILD_STAMP));
    expect(plan(root, env).build).toMatch(/no record/);
    writeStamp(root, BUILD_STAMP, buildKey(root, env));
    expect(plan(root, env)).toEqual(nothing);
  });
});
