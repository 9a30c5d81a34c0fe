import { describe, expect, it } from "vitest";
import { decodePathSegment, pathProblem, queryProblem, requestUrl } from "./request-checks";

describe("requestUrl", () => {
  it("keeps an origin-form target a path, even one starting with //", () => {
    expect(requestUrl("//evil.example/api/v1/channels").pathname).toBe("//evil.example/api/v1/channels");
    expect(requestUrl("/a?b=1").search).toBe("?b=1");
    expect(requestUrl(undefined).pathname).toBe("/");
  });
  it("refuses a target that is not a URL with invalid_request", () => {
    expect(() => requestUrl("http://[")).toThrow(expect.objectContaining({ code: "invalid_request" }));
  });
});

describe("decodePathSegment and pathProblem", () => {
  it("decodes well-formed escapes", () => {
    expect(decodePathSegment("a%2Fb%20c")).toBe("a/b c");
    expect(pathProblem("/agents/a%20b")).toBeUndefined();
  });
  it.each(["%ZZ", "%", "a%", "%E0%A4%A", "%C0%80", "%ED%A0%80", "%00", "x%00y"])("refuses %s", (segment) => {
    expect(() => decodePathSegment(segment)).toThrow(expect.objectContaining({ code: "invalid_request" }));
    expect(pathProblem(`/p/${segment}`)).toEqual(expect.any(String));
  });
});

describe("queryProblem", () => {
  it("accepts empty and well-formed queries, + as space", () => {
    for (const q of ["", "?", "?a=1&b=x%20y", "?a=b+c", "?flag", "?a=%F0%9F%98%80"]) expect(queryProblem(q)).toBeUndefined();
  });
  it.each(["?type=%ZZ", "?after=%", "?%ZZ=1", "?a=%E0%A4%A", "?a=%ED%A0%80", "?a=1&b=%"])("refuses the malformed escape in %s", (q) => {
    expect(queryProblem(q)).toMatch(/malformed/);
  });
  it("refuses a NUL anywhere, and a lone surrogate", () => {
    expect(queryProblem("?a=%00")).toMatch(/NUL/);
    expect(queryProblem("?a%00=1")).toMatch(/NUL/);
    expect(queryProblem("?a=\uD800")).toMatch(/surrogate/);
    expect(queryProblem("?a=x\uDC00")).toMatch(/surrogate/);
    expect(queryProblem("?a=\uD83D\uDE00")).toBeUndefined();
  });
});
