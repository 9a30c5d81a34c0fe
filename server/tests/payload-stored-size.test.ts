import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkPayload } from "../../lib/payload-rules";
import { MACHINE_POSTGRES, machinePostgresAvailable } from "./support/services";

const available = await machinePostgresAvailable();

/** Strings rich in what PostgreSQL escapes or prints as multi-byte UTF-8, and in anything else. */
const tricky = fc.constantFrom('"', "\\", "/", "\n", "\r", "\t", "\b", "\f", "\u0001", "\u001f", "\u007f", "\u0080", "é", "€", "\u2028", "\ufeff", "😀", "𝄞", " ", "a");
const text = fc.oneof(
  fc.string({ unit: "binary", maxLength: 20 }).map((s) => s.replaceAll("\u0000", "")),
  fc.string({ unit: tricky, maxLength: 20 }),
  fc.string({ maxLength: 10 }),
);
/** Every double but NaN and ±Infinity: -0, subnormals (5e-324), 1.7976931348623157e308 and all between. */
const number = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.constantFrom(0, -0, 1e308, -1e308, 5e-324, -5e-324, 1.5e-7, 1e21, 1e-7, 0.000001, 123.456, 2 ** 53, Number.MAX_VALUE, Number.MIN_VALUE),
);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    number,
    text,
    fc.boolean(),
    fc.constant(null),
    tie("array"),
    tie("object"),
  ),
  array: fc.array(tie("value"), { maxLength: 6 }),
  object: fc.dictionary(text, tie("value"), { maxKeys: 6 }),
}));
const nest = (v: unknown, depth: number) => {
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { k: v };
  return v;
};
/** A payload: an object of random values, sometimes wrapped deep (the whole payload stays within 64 levels). */
const payload = fc.tuple(fc.dictionary(text, value, { maxKeys: 8 }), fc.integer({ min: 0, max: 50 })).map(([p, depth]) => ({ p: nest(p, depth) }));

describe.runIf(available)("checkPayload against PostgreSQL", () => {
  let client: pg.Client;
  beforeAll(async () => {
    client = new pg.Client({ connectionString: MACHINE_POSTGRES });
    await client.connect();
  });
  afterAll(async () => {
    await client?.end();
  });

  const stored = async (x: unknown) => {
    const { rows } = await client.query<{ bytes: number; text: string }>("SELECT octet_length($1::jsonb::text) AS bytes, $1::jsonb::text AS text", [JSON.stringify(x)]);
    return rows[0]!;
  };

  it("storedBytes is octet_length(payload::jsonb::text) for random payloads", async () => {
    await fc.assert(
      fc.asyncProperty(payload, async (x) => {
        const check = checkPayload(x);
        expect(check.ok).toBe(true);
        const row = await stored(x);
        expect(check.ok && check.storedBytes, row.text).toBe(row.bytes);
      }),
      { numRuns: 400 },
    );
  });

  it("storedBytes is exact for every kind of number, alone and in arrays", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(number, { minLength: 1, maxLength: 20 }), async (numbers) => {
        const x = { n: numbers, m: Object.fromEntries(numbers.map((n, i) => [String(i), n])) };
        const check = checkPayload(x);
        expect(check.ok && check.storedBytes).toBe((await stored(x)).bytes);
      }),
      { numRuns: 300 },
    );
  });

  it("a payload passes the checker exactly when PostgreSQL accepts it (NUL, lone surrogates)", async () => {
    // Strings of arbitrary UTF-16 code units, surrogates and NUL frequent, as values and as keys.
    const unit = fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xd7ff, max: 0xe000 }), fc.constant(0));
    const raw = fc.array(unit, { maxLength: 6 }).map((units) => String.fromCharCode(...units));
    await fc.assert(
      fc.asyncProperty(raw, raw, fc.boolean(), async (k, v, asKey) => {
        const x = asKey ? { a: [{ [k]: 1 }] } : { a: [{ k: v }] };
        const check = checkPayload(x);
        const accepted = await stored(x).then(
          () => true,
          (err: { code?: string }) => {
            // 22P02 invalid input syntax (a lone surrogate), 22P05 untranslatable character (\u0000)
            expect(["22P02", "22P05"]).toContain(err.code);
            return false;
          },
        );
        expect(check.ok).toBe(accepted);
      }),
      { numRuns: 400 },
    );
  });

  it("counts 1e308 at its 309 stored digits", async () => {
    const x = { a: [1e308, -1e308, 5e-324, 1.5e-7] };
    const row = await stored(x);
    expect(row.text).toContain("0.00000015");
    expect(checkPayload(x)).toEqual({ ok: true, storedBytes: row.bytes });
    expect(row.bytes).toBeGreaterThan(900);
  });
});
