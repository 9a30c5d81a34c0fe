import { describe, expect, it } from "vitest";
import { checkPayload, describePayloadFailure, storedNumberBytes, storedStringBytes } from "./payload-rules";

/** `depth` arrays nested in one another inside the payload object (which is depth 1). */
const nestedArrays = (depth: number) => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = [value];
  return { a: value };
};

const failure = (payload: unknown, options?: Parameters<typeof checkPayload>[1]) => {
  const r = checkPayload(payload, options);
  if (r.ok) throw new Error(`expected a failure, got ${JSON.stringify(r)}`);
  return r;
};

describe("checkPayload rules", () => {
  it("refuses NUL in values and keys at any depth, naming the path", () => {
    expect(failure({ a: "x\u0000y" })).toMatchObject({ rule: "nul", path: "payload.a" });
    expect(failure({ steps: [{}, {}, {}, { name: "ok\u0000" }] })).toMatchObject({ rule: "nul", path: "payload.steps[3].name" });
    expect(failure({ deep: { er: [[{ "k\u0000": 1 }]] } })).toMatchObject({ rule: "nul", path: 'payload.deep.er[0][0]["k\\u0000"]' });
    expect(describePayloadFailure(failure({ a: "\u0000" }))).toBe("payload.a: the string contains a NUL character (\\u0000), which PostgreSQL cannot store");
  });

  it("refuses lone surrogates (high or low, at the end or inside) in values and keys, and accepts pairs", () => {
    expect(failure({ a: "x\ud800" })).toMatchObject({ rule: "lone_surrogate", path: "payload.a" });
    expect(failure({ a: ["\udc00x"] })).toMatchObject({ rule: "lone_surrogate", path: "payload.a[0]" });
    expect(failure({ a: "\ud800\ud800\udc00" })).toMatchObject({ rule: "lone_surrogate" });
    expect(failure({ a: { "\udfff": true } })).toMatchObject({ rule: "lone_surrogate", path: 'payload.a["\\udfff"]' });
    expect(checkPayload({ "😀": "😀 \u2028" })).toMatchObject({ ok: true });
  });

  it("allows exactly maxDepth nested containers and refuses one more", () => {
    // The payload object is depth 1, so `depth` arrays inside it make depth + 1.
    expect(checkPayload(nestedArrays(63))).toMatchObject({ ok: true });
    expect(failure(nestedArrays(64))).toMatchObject({ rule: "too_deep", path: `payload.a${"[0]".repeat(63)}` });
    expect(checkPayload(nestedArrays(9), { maxDepth: 10 })).toMatchObject({ ok: true });
    expect(failure(nestedArrays(10), { maxDepth: 10 }).message).toContain("deeper than 10 levels");
    expect(checkPayload({ o: { o: {} } }, { maxDepth: 3 })).toMatchObject({ ok: true });
    expect(failure({ o: { o: { o: {} } } }, { maxDepth: 3 })).toMatchObject({ path: "payload.o.o.o" });
  });

  it("survives nesting far beyond the call stack without recursing, and cycles", () => {
    expect(failure(nestedArrays(200_000))).toMatchObject({ rule: "too_deep" });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(failure(cyclic)).toMatchObject({ rule: "too_deep" });
  });

  it("refuses non-finite numbers and values that are not JSON", () => {
    expect(failure({ a: [1, Number.POSITIVE_INFINITY] })).toMatchObject({ rule: "not_finite", path: "payload.a[1]" });
    expect(failure({ a: Number.NaN })).toMatchObject({ rule: "not_finite" });
    expect(failure({ a: -Infinity })).toMatchObject({ rule: "not_finite" });
    expect(failure({ a: undefined })).toMatchObject({ rule: "not_json" });
    expect(failure({ a: 1n })).toMatchObject({ rule: "not_json" });
    expect(failure({ a: new Date(0) })).toMatchObject({ rule: "not_json" });
    expect(failure({ a: () => 1 })).toMatchObject({ rule: "not_json" });
  });

  it("treats __proto__, constructor and prototype as ordinary keys", () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": "\\u0000"}, "constructor": {"prototype": 1}}') as unknown;
    expect(failure(parsed)).toMatchObject({ rule: "nul", path: "payload.__proto__.polluted" });
    const fine = JSON.parse('{"__proto__": {"x": 1}, "constructor": {"prototype": [1, 2]}}') as unknown;
    expect(checkPayload(fine)).toEqual({ ok: true, storedBytes: '{"__proto__": {"x": 1}, "constructor": {"prototype": [1, 2]}}'.length });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("names unusual keys with bracket notation, cut when long", () => {
    expect(failure({ "a b": "\u0000" }).path).toBe('payload["a b"]');
    expect(failure({ ["k".repeat(100)]: "\u0000" }).path).toBe(`payload["${"k".repeat(40)}…"]`);
    expect(failure({ a: "\u0000" }, { root: "events[2].payload" }).path).toBe("events[2].payload.a");
  });
});

describe("stored size", () => {
  it("counts jsonb's separators", () => {
    expect(checkPayload({})).toEqual({ ok: true, storedBytes: 2 });
    expect(checkPayload({ a: 1, b: [1, 2] })).toEqual({ ok: true, storedBytes: '{"a": 1, "b": [1, 2]}'.length });
    expect(checkPayload({ a: {}, b: [], c: [null, true, false] })).toEqual({ ok: true, storedBytes: '{"a": {}, "b": [], "c": [null, true, false]}'.length });
  });

  it("counts numbers in PostgreSQL's plain decimal", () => {
    expect(storedNumberBytes(1e308)).toBe(309);
    expect(storedNumberBytes(-1e308)).toBe(310);
    expect(storedNumberBytes(1.5e-7)).toBe("0.00000015".length);
    expect(storedNumberBytes(5e-324)).toBe(326);
    expect(storedNumberBytes(1e21)).toBe(22);
    expect(storedNumberBytes(1.2345e25)).toBe(26);
    expect(storedNumberBytes(-0)).toBe(1);
    expect(storedNumberBytes(0.000001)).toBe(8);
    expect(storedNumberBytes(123.456)).toBe(7);
  });

  it("counts strings as PostgreSQL escapes them", () => {
    expect(storedStringBytes("")).toBe(2);
    expect(storedStringBytes('a"\\/')).toBe(2 + 1 + 2 + 2 + 1);
    expect(storedStringBytes("\n\t\b\f\r")).toBe(2 + 10);
    expect(storedStringBytes("\u0001\u001f")).toBe(2 + 12);
    expect(storedStringBytes("\u007f")).toBe(3);
    expect(storedStringBytes("é€😀")).toBe(2 + 2 + 3 + 4);
  });

  it("refuses a payload over maxBytes with its stored size, measured on the stored form", () => {
    const payload = { n: Array.from({ length: 250 }, () => 1e308) };
    expect(JSON.stringify(payload).length).toBeLessThan(2000);
    const r = failure(payload, { maxBytes: 64 * 1024 });
    expect(r).toMatchObject({ rule: "too_large", path: "payload", storedBytes: 2 + 5 + 2 + 250 * 309 + 249 * 2 });
    expect(r.message).toBe(`is ${r.storedBytes} bytes as stored; the limit is 65536 (MAX_PAYLOAD_BYTES)`);
    expect(checkPayload(payload, { maxBytes: r.storedBytes })).toEqual({ ok: true, storedBytes: r.storedBytes });
  });
});

describe("the envelope fields a producer sets", () => {
  it("cannot carry what PostgreSQL refuses: type, agent and project are ASCII-only patterns", async () => {
    const { publishInputSchema } = await import("./protocol");
    for (const bad of ["a\u0000", "a\ud800", "é", "a\n", "a b"]) {
      expect(publishInputSchema.safeParse({ type: `task.${bad}` }).success).toBe(false);
      expect(publishInputSchema.safeParse({ type: "task.created", agent: bad }).success).toBe(false);
      expect(publishInputSchema.safeParse({ type: "task.created", project: bad }).success).toBe(false);
    }
    expect(publishInputSchema.safeParse({ type: "task.created", agent: "x".repeat(129) }).success).toBe(false);
    expect(publishInputSchema.safeParse({ type: "task.created", agent: "ann@x/y:z-1.2", project: "p_1" }).success).toBe(true);
  });
});
