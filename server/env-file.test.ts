import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { envFileProblem, loadEnvFile } from "./env-file";

const KEYS = ["SB_ENVFILE_A", "SB_ENVFILE_B", "SB_ENVFILE_C", "SB_ENVFILE_MULTI", "ENV_FILE"];

describe("loadEnvFile", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "sb-envfile-"));
    for (const k of KEYS) delete process.env[k];
  });
  afterEach(() => {
    for (const k of KEYS) delete process.env[k];
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("reads .env in the working directory; the real environment wins", () => {
    fs.writeFileSync(path.join(dir, ".env"), "# comment\n\nSB_ENVFILE_A=from-file\nexport SB_ENVFILE_B = 'quoted'\nSB_ENVFILE_C=from-file\n");
    process.env.SB_ENVFILE_C = "real";
    expect(loadEnvFile({ cwd: dir })).toEqual({ path: path.join(dir, ".env"), loaded: true });
    expect(process.env.SB_ENVFILE_A).toBe("from-file");
    expect(process.env.SB_ENVFILE_B).toBe("quoted");
    expect(process.env.SB_ENVFILE_C).toBe("real");
  });

  it("a missing .env is fine", () => {
    expect(loadEnvFile({ cwd: dir })).toEqual({ path: path.join(dir, ".env"), loaded: false });
  });

  it("ENV_FILE names the file, relative to the working directory; a missing named file is an error", () => {
    fs.writeFileSync(path.join(dir, "other.env"), "SB_ENVFILE_A=other\n");
    fs.writeFileSync(path.join(dir, ".env"), "SB_ENVFILE_A=default\n");
    process.env.ENV_FILE = "other.env";
    loadEnvFile({ cwd: dir });
    expect(process.env.SB_ENVFILE_A).toBe("other");
    process.env.ENV_FILE = "missing.env";
    expect(() => loadEnvFile({ cwd: dir })).toThrow(/Cannot read the environment file .*missing\.env \(ENV_FILE\)/);
  });

  it("a quoted value may span lines", () => {
    fs.writeFileSync(path.join(dir, ".env"), 'SB_ENVFILE_MULTI="one\ntwo"\nSB_ENVFILE_A=after\n');
    loadEnvFile({ cwd: dir });
    expect(process.env.SB_ENVFILE_MULTI).toBe("one\ntwo");
    expect(process.env.SB_ENVFILE_A).toBe("after");
  });

  it("a malformed file stops with the line that is wrong, and sets nothing", () => {
    fs.writeFileSync(path.join(dir, ".env"), "SB_ENVFILE_A=1\nthis is not an assignment\nSB_ENVFILE_B=2\n");
    expect(() => loadEnvFile({ cwd: dir })).toThrow(`Invalid environment file ${path.join(dir, ".env")}: line 2 is not NAME=value: "this is not an assignment"`);
    expect(process.env.SB_ENVFILE_A).toBeUndefined();
  });
});

describe("envFileProblem", () => {
  it.each([
    ["", null],
    ["A=1\r\nB=2\r\n", null],
    ["\uFEFFA=1", null],
    ["  # indented comment\nA=", null],
    ["A='it''s'", null],
    ["A=\"open\nstill open\n", "line 1: the quoted value of A is never closed"],
    ["A=1\n1BAD=2", 'line 2 is not NAME=value: "1BAD=2"'],
    ["A=1\nPORT 3000", 'line 2 is not NAME=value: "PORT 3000"'],
  ])("%j -> %j", (text, problem) => {
    expect(envFileProblem(text)).toBe(problem);
  });
});
