import { describe, expect, it } from "vitest";
import { safeNextPath, tokenFromFragment } from "./sign-in-redirect";

const origin = "https://switchboard.example";

describe("safeNextPath", () => {
  it.each([
    ["/", "/"],
    ["/?agent=atlas-coder", "/?agent=atlas-coder"],
    ["/reports/daily?x=1#top", "/reports/daily?x=1#top"],
  ])("keeps the same-origin path %s", (next, expected) => {
    expect(safeNextPath(next, origin)).toBe(expected);
  });

  it.each([
    [null],
    [""],
    ["https://evil.example/"],
    ["//evil.example/steal"],
    ["/\\evil.example"],
    ["javascript:alert(1)"],
    ["relative/path"],
    ["/login"],
    ["/login?next=/"],
  ])("sends %s to the home page instead", (next) => {
    expect(safeNextPath(next, origin)).toBe("/");
  });
});

describe("tokenFromFragment", () => {
  it("reads the token from the printed login link", () => {
    expect(tokenFromFragment("#token=sb_admin_abc-DEF_123")).toBe("sb_admin_abc-DEF_123");
  });

  it("keeps a + and decodes escapes", () => {
    expect(tokenFromFragment("#token=a+b%2Fc")).toBe("a+b/c");
  });

  it.each([[""], ["#"], ["#token="], ["#other=1"]])("finds no token in %j", (hash) => {
    expect(tokenFromFragment(hash)).toBeNull();
  });
});
