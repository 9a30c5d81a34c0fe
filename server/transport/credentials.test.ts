import { describe, expect, it } from "vitest";
import { presentedToken, readCookie, safeDecode, sessionCookie } from "./credentials";

describe("readCookie", () => {
  it("finds a cookie among others and decodes it", () => {
    expect(readCookie("a=1; sb_session=sb_x%2By; b=2", "sb_session")).toBe("sb_x+y");
    expect(readCookie("sb_session=plain", "sb_session")).toBe("plain");
    expect(readCookie('sb_session="quoted"', "sb_session")).toBe("quoted");
    expect(readCookie("other=1", "sb_session")).toBeUndefined();
    expect(readCookie(undefined, "sb_session")).toBeUndefined();
    expect(readCookie("", "sb_session")).toBeUndefined();
    expect(readCookie("xsb_session=1", "sb_session")).toBeUndefined();
  });

  it("round-trips what sessionCookie sets", () => {
    const token = "sb_pub_a/b+c=d%e";
    const set = sessionCookie(token, false).split(";")[0]!;
    expect(readCookie(set, "sb_session")).toBe(token);
  });

  it.each(["%ZZ", "%", "%E0%A4%A", "%C0%80", "%ED%A0%80", "abc%", "%00", "a%00b"])("ignores the undecodable or NUL value %s, without throwing", (value) => {
    expect(readCookie(`sb_session=${value}`, "sb_session")).toBeUndefined();
  });

  it("falls back to a later cookie of the same name when the first is unusable", () => {
    expect(readCookie("sb_session=%ZZ; sb_session=good", "sb_session")).toBe("good");
  });

  it("ignores a malformed session cookie when a bearer token is presented, and yields none without one", () => {
    expect(presentedToken({ authorization: "Bearer tok", cookie: "sb_session=%ZZ" })).toBe("tok");
    expect(presentedToken({ cookie: "sb_session=%ZZ" })).toBeUndefined();
  });
});

describe("safeDecode", () => {
  it("decodes, or answers undefined where decodeURIComponent would throw", () => {
    expect(safeDecode("a%20b")).toBe("a b");
    expect(safeDecode("%ZZ")).toBeUndefined();
    expect(safeDecode("no-escapes")).toBe("no-escapes");
  });
});
