import fc from "fast-check";

/**
 * fast-check arbitraries of hostile JSON, produced as text: the escapes are written as they appear on
 * the wire (`\u0000`, a lone `\ud800`), numbers as written (`1e400`, `-0`, `5e-324`), and deep nesting
 * as repeated brackets, so generating 5,000 levels costs no more than a string of that length.
 */
export interface HostileOptions {
  /** Longest single run of one character in a string (the "huge string"). */
  maxHugeString: number;
  /** Deepest nesting built as text. */
  maxDepth: number;
}

export const HTTP_LIMITS: HostileOptions = { maxHugeString: 100_000, maxDepth: 5000 };
/** Socket messages stay under the server's maxHttpBufferSize (MAX_PAYLOAD_BYTES + 16 KiB). */
export const SOCKET_LIMITS: HostileOptions = { maxHugeString: 20_000, maxDepth: 3000 };

/** Escapes and characters that break naive handling, written as JSON string content. */
const nastyPieces = [
  "\\u0000",
  "\\ud800",
  "\\udfff",
  "\\udbff",
  "\\uDC00x",
  "\\ud83d\\ude00", // a valid pair
  "\\u0000\\u0000",
  "\\n",
  '\\"',
  "\\\\",
  "\\/",
  "é",
  "\u2028",
  "𝄞",
  "\\u00e9",
  "\\u001f",
  "%00",
  "%E0%A4%A",
];

export function jsonStringText(o: HostileOptions) {
  const piece = fc.oneof(
    { weight: 6, arbitrary: fc.string({ maxLength: 10 }).map((s) => JSON.stringify(s).slice(1, -1)) },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 6 }).map((s) => JSON.stringify(s).slice(1, -1)) },
    { weight: 3, arbitrary: fc.constantFrom(...nastyPieces) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: o.maxHugeString }).map((n) => "x".repeat(n)) },
  );
  return fc.array(piece, { maxLength: 4 }).map((pieces) => `"${pieces.join("")}"`);
}

/** Keys: ordinary, hostile strings, and the names of Object.prototype's members. */
export function keyText(o: HostileOptions) {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('"a"', '"b"', '"taskId"', '"text"', '"amount"', '""') },
    { weight: 2, arbitrary: fc.constantFrom('"__proto__"', '"constructor"', '"prototype"', '"toString"', '"hasOwnProperty"', '"valueOf"') },
    { weight: 3, arbitrary: jsonStringText({ ...o, maxHugeString: Math.min(o.maxHugeString, 2000) }) },
  );
}

export const numberText = fc.oneof(
  fc.constantFrom(
    "0",
    "-0",
    "1",
    "-1",
    "1e308",
    "-1e308",
    "1e400",
    "-1e400",
    "5e-324",
    "1e-400",
    "1.7976931348623157e308",
    "123456789012345678901234567890",
    "0.1",
    "1E+2",
    "-0.0",
    "2e-1000",
    "9007199254740993",
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
  fc.integer().map(String),
);

export function scalarText(o: HostileOptions) {
  return fc.oneof(
    { weight: 3, arbitrary: jsonStringText(o) },
    { weight: 3, arbitrary: numberText },
    { weight: 1, arbitrary: fc.constantFrom("true", "false", "null") },
  );
}

/** Arrays or objects nested `depth` levels around a scalar, built as text. */
export function deepText(o: HostileOptions) {
  return fc
    .tuple(fc.integer({ min: 1, max: o.maxDepth }), fc.constantFrom("array", "object", "mixed"), fc.constantFrom("0", '"\\u0000"', "1e400", "{}", '"x"'))
    .map(([n, kind, leaf]) => {
      if (kind === "array") return "[".repeat(n) + leaf + "]".repeat(n);
      if (kind === "object") return '{"a":'.repeat(n) + leaf + "}".repeat(n);
      const half = Math.ceil(n / 2);
      return '{"a":['.repeat(half) + leaf + "]}".repeat(half);
    });
}

/** Any JSON value as text: scalars, small arrays and objects of hostile keys and values, and deep nesting. */
export function valueText(o: HostileOptions) {
  const { value } = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small", maxDepth: 4 },
      { weight: 4, arbitrary: scalarText(o) },
      { weight: 2, arbitrary: tie("array") },
      { weight: 2, arbitrary: tie("object") },
      { weight: 1, arbitrary: deepText(o) },
    ),
    array: fc.array(tie("value"), { maxLength: 4 }).map((vs) => `[${vs.join(",")}]`),
    object: fc.array(fc.tuple(keyText(o), tie("value")), { maxLength: 4 }).map((es) => `{${es.map(([k, v]) => `${k}:${v}`).join(",")}}`),
  }));
  return value;
}

/** An object as text: the shape a payload must have, with hostile content. */
export function objectText(o: HostileOptions) {
  return fc.oneof(
    fc.array(fc.tuple(keyText(o), valueText(o)), { maxLength: 5 }).map((es) => `{${es.map(([k, v]) => `${k}:${v}`).join(",")}}`),
    deepText(o).map((d) => `{"deep":${d}}`),
    fc.integer({ min: 1, max: 200 }).chain((n) => numberText.map((x) => `{"n":[${Array(n).fill(x).join(",")}]}`)),
  );
}

export const eventTypes = ["task.created", "task.status_changed", "agent.heartbeat", "budget.spent", "message.sent", "system.notice", "a.b"];
export const labels = ["atlas-coder", "a", "x:y@z/w.v-u_1"];

/** One publish input as text: mostly the right shape, with any field wrong, missing or hostile. */
export function eventText(o: HostileOptions) {
  const field = <T extends string>(name: T, good: fc.Arbitrary<string>) =>
    fc.oneof(
      { weight: 5, arbitrary: good.map((v) => `"${name}":${v}`) },
      { weight: 1, arbitrary: fc.constant("") },
      { weight: 2, arbitrary: valueText(o).map((v) => `"${name}":${v}`) },
    );
  const type = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...eventTypes).map((t) => JSON.stringify(t)) },
    { weight: 1, arbitrary: fc.constantFrom('"Task.Created"', '"task"', '"task."', `"${"a.".repeat(60)}b"`, '"task.\\u0000"') },
  );
  const label = fc.oneof(fc.constantFrom(...labels).map((l) => JSON.stringify(l)), fc.constant("null"));
  return fc
    .tuple(
      field("type", type),
      field("payload", objectText(o)),
      field("agent", label),
      field("project", label),
      fc.option(fc.tuple(keyText(o), valueText(o)), { freq: 5 }),
    )
    .map(([...parts]) => {
      const extra = parts.pop() as [string, string] | null;
      const entries = (parts as string[]).filter(Boolean);
      if (extra) entries.push(`${extra[0]}:${extra[1]}`);
      return `{${entries.join(",")}}`;
    });
}

/** A publish body: one event, a batch, too many, malformed or truncated JSON, or any value at all. */
export function publishBodyText(o: HostileOptions) {
  return fc.oneof(
    { weight: 6, arbitrary: eventText(o) },
    { weight: 3, arbitrary: fc.array(eventText(o), { minLength: 0, maxLength: 5 }).map((es) => `[${es.join(",")}]`) },
    { weight: 1, arbitrary: fc.constant(`[${Array(1001).fill('{"type":"a.b"}').join(",")}]`) },
    { weight: 2, arbitrary: valueText(o) },
    { weight: 2, arbitrary: fc.tuple(eventText(o), fc.nat()).map(([t, k]) => t.slice(0, k % Math.max(1, t.length))) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
    { weight: 1, arbitrary: fc.constantFrom("", " ", "{", "[", '{"type":', "nul", "[1,]", '{"a":1,}', "\u0000", "{}", "[]") },
  );
}

/** Path segments: valid names, unknown ones and malformed percent-escapes. */
export const segmentText = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("tasks", "agents", "budget", "messages", "system") },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "nope",
      "TASKS",
      "__proto__",
      "constructor",
      "toString",
      "%",
      "%E0%A4%A",
      "%ZZ",
      "%00",
      "%ED%A0%80",
      "%C0%80",
      "%FF",
      "%2F",
      "%2e%2e",
      "tasks%00",
      "t%61sks",
      "%F0%9F%98%80",
      "a".repeat(300),
      "%u0041",
    ),
  },
  { weight: 2, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 8 }).map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, "x"))) },
);

/** Query values as they appear in the URL: numbers right and wrong, escapes, lists, empties. */
export const queryValueText = fc.oneof(
  fc.constantFrom(
    "",
    "0",
    "1",
    "-1",
    "100",
    "1000",
    "1001",
    "1e3",
    "1e400",
    "1.5",
    "0x10",
    "NaN",
    "Infinity",
    "-0",
    "9007199254740993",
    "99999999999999999999",
    "%20",
    "%00",
    "%",
    "%E0%A4%A",
    "%ED%A0%80",
    "a,b,,c",
    ",,,",
    "task.*",
    "*",
    "task.%00",
    "2026-11-22T10:00:00.000Z",
    "2026-02-30T00:00:00Z",
    "9999-12-31T23:59:59.999Z",
    "0000-01-01T00:00:00Z",
    "2026-11-22T10:00:00+25:00",
    "atlas-coder",
    "x".repeat(2000),
  ),
  fc.integer({ min: -10, max: 5000 }).map(String),
  fc.string({ unit: "binary", maxLength: 12 }).map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, "x"))),
  fc.string({ maxLength: 12 }).map((s) => s.replace(/[#\s&]/g, "")),
);

export function queryText(names: readonly string[]) {
  return fc
    .array(fc.tuple(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.constantFrom("x", "%", "__proto__", "a%00") }), queryValueText), {
      maxLength: 5,
    })
    .map((pairs) => (pairs.length === 0 ? "" : `?${pairs.map(([k, v]) => `${k}=${v}`).join("&")}`));
}

/** A value that prints short: fast-check reports it with this text, not the 100 KB it may carry. */
export class Shown<T> {
  constructor(
    readonly value: T,
    private readonly label: string,
  ) {}
  [fc.toStringMethod]() {
    return this.label;
  }
  toString() {
    return this.label;
  }
}

export const abbreviate = (text: string, max = 240) =>
  text.length <= max ? text : `${text.slice(0, max / 2)}…(${text.length} chars)…${text.slice(-max / 2)}`;
