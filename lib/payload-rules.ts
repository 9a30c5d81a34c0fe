/**
 * What an event payload must be for PostgreSQL to store it, and what it costs once stored.
 * Isomorphic (no Node-only imports): the server checks every published payload with it, and a
 * browser or producer may check a payload before sending it.
 *
 * Rules, at any depth, for values and for object keys alike:
 * - no NUL character (`\u0000`): jsonb cannot hold it ("unsupported Unicode escape sequence");
 * - no lone UTF-16 surrogate (a high surrogate not followed by a low one, or a low one alone): it is
 *   not Unicode, and jsonb refuses it;
 * - numbers are finite (a JSON text cannot carry NaN or Infinity, but a number literal such as
 *   `1e400` parses to Infinity, which JSON.stringify would silently turn into `null`);
 * - only JSON values: null, booleans, numbers, strings, arrays and objects (`undefined`, functions,
 *   symbols, bigints and objects with a `toJSON` method are refused rather than silently dropped or
 *   converted);
 * - at most `maxDepth` containers nested in one another (the payload object itself is depth 1).
 *
 * The size counted against the limit is the size of the payload as PostgreSQL stores and prints it
 * (`octet_length(payload::text)` of the jsonb), which is what every history read sends back:
 * - jsonb's text output separates with `", "` and `": "` (`{"a": 1, "b": [1, 2]}`);
 * - strings are printed as UTF-8, escaping only `"`, `\`, and control characters below U+0020
 *   (`\b \f \n \r \t` as two bytes, the others as six: `\u001f`); `/`, U+007F and U+2028 are
 *   printed as they are;
 * - numbers are jsonb `numeric`s, printed in plain decimal with the scale of their input: JSON.stringify's
 *   `1e+308` is printed as its 309 digits, `1.5e-7` as `0.00000015`, `5e-324` as 326 characters.
 *
 * Decision: huge and tiny numbers (1e308, 5e-324) are accepted, because they are valid JSON numbers
 * that JavaScript and every JSON parser round-trip, but they are counted at their stored size, so a
 * payload of 200 `1e308`s (about 1.4 KB as sent) is counted as the 62 KB it is when read back, and
 * the limit bounds what any read answers. The views treat such values with numeric arithmetic.
 *
 * The walk is iterative (an explicit stack, never deeper than `maxDepth`), so no input can overflow
 * the call stack, and a cycle in an in-process object ends at the depth limit.
 */

export const DEFAULT_MAX_PAYLOAD_DEPTH = 64;

export type PayloadRule = "nul" | "lone_surrogate" | "not_finite" | "not_json" | "too_deep" | "too_large";

export interface PayloadCheckOptions {
  /** Largest stored size (bytes of `payload::text`); default: no limit. */
  maxBytes?: number;
  /** Most containers nested in one another, the payload itself being 1; default 64. */
  maxDepth?: number;
  /** Name of the checked value in paths; default `payload`. */
  root?: string;
}

export type PayloadCheck =
  | { ok: true; storedBytes: number }
  | {
      ok: false;
      rule: PayloadRule;
      /** Where the problem is, as a JavaScript accessor path: `payload.steps[3].name`. */
      path: string;
      /** What is wrong, without the path. */
      message: string;
      /** For `too_large`: the stored size. */
      storedBytes?: number;
    };

/** `path: message` of a failed check. */
export const describePayloadFailure = (failure: Extract<PayloadCheck, { ok: false }>) => `${failure.path}: ${failure.message}`;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const MAX_KEY_IN_PATH = 40;

function pathSegment(key: string | number): string {
  if (typeof key === "number") return `[${key}]`;
  if (IDENTIFIER.test(key) && key.length <= MAX_KEY_IN_PATH) return `.${key}`;
  // JSON.stringify escapes NUL and lone surrogates, so the path is printable and valid Unicode.
  const shown = key.length > MAX_KEY_IN_PATH ? `${key.slice(0, MAX_KEY_IN_PATH)}…` : key;
  return `[${JSON.stringify(shown)}]`;
}

const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const STRING_NUL = -1;
const STRING_LONE_SURROGATE = -2;

/**
 * Bytes of a string as jsonb prints it, quotes included; or STRING_NUL / STRING_LONE_SURROGATE when
 * PostgreSQL would refuse it.
 */
export function storedStringBytes(s: string): number {
  // Most strings are printable ASCII without quotes or backslashes: one byte a character.
  if (PLAIN_ASCII.test(s)) return s.length + 2;
  let n = 2;
  const length = s.length;
  for (let i = 0; i < length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c >= 0x20) n += c === 0x22 || c === 0x5c ? 2 : 1;
      else if (c === 0) return STRING_NUL;
      else n += c === 0x08 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d ? 2 : 6;
    } else if (c < 0x800) {
      n += 2;
    } else if (c < 0xd800 || c > 0xdfff) {
      n += 3;
    } else if (c <= 0xdbff) {
      const next = i + 1 < length ? s.charCodeAt(i + 1) : 0;
      if (next < 0xdc00 || next > 0xdfff) return STRING_LONE_SURROGATE;
      n += 4;
      i++;
    } else {
      return STRING_LONE_SURROGATE;
    }
  }
  return n;
}

/**
 * Bytes of a finite number as jsonb prints it: JSON.stringify's text read as a `numeric` and printed
 * back in plain decimal with the input's scale (numeric_in / numeric_out). JavaScript prints a finite
 * number either in plain decimal, which PostgreSQL prints as it is, or as `d[.ddd]e±x` with one
 * non-zero digit before the point, whose plain form has the same digits with the point moved.
 */
export function storedNumberBytes(value: number): number {
  if (Number.isSafeInteger(value)) {
    // Plain digits either way; counted without building the string.
    let n = value < 0 ? 2 : 1;
    for (let a = Math.abs(value); a >= 10; a = Math.floor(a / 10)) n++;
    return n;
  }
  const s = String(value); // what JSON.stringify writes for a finite number (-0 included: "0")
  const e = s.indexOf("e");
  if (e < 0) return s.length;
  const sign = s.charCodeAt(0) === 0x2d ? 1 : 0;
  const mantissa = s.slice(sign, e);
  const exponent = Number(s.slice(e + 1));
  const dot = mantissa.indexOf(".");
  const intDigits = dot < 0 ? mantissa.length : dot;
  const digits = dot < 0 ? mantissa.length : mantissa.length - 1;
  const point = intDigits + exponent; // digits before the decimal point in plain form
  if (point >= digits) return sign + point; // an integer: the digits and point - digits zeros
  if (point <= 0) return sign + 2 + (digits - point); // "0." then -point zeros, then the digits
  return sign + digits + 1; // the point falls among the digits
}

interface Frame {
  value: Record<string, unknown> | unknown[];
  /** Object keys; null for an array. */
  keys: string[] | null;
  /** Next child to visit. */
  next: number;
  size: number;
}

/**
 * Checks a payload against the rules above and measures its stored size. Stops at the first
 * violation (in document order); measures the whole payload otherwise.
 */
export function checkPayload(payload: unknown, options: PayloadCheckOptions = {}): PayloadCheck {
  const maxDepth = options.maxDepth ?? DEFAULT_MAX_PAYLOAD_DEPTH;
  const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  const root = options.root ?? "payload";
  const stack: Frame[] = [];
  // The path of the value being visited: each open container's current child.
  const pathHere = () => {
    let path = root;
    for (const f of stack) path += pathSegment(f.keys ? f.keys[f.next - 1]! : f.next - 1);
    return path;
  };
  const fail = (rule: PayloadRule, message: string): PayloadCheck => ({ ok: false, rule, path: pathHere(), message });
  const stringFailure = (code: number, what: string) =>
    code === STRING_NUL
      ? `${what} contains a NUL character (\\u0000), which PostgreSQL cannot store`
      : `${what} contains a lone UTF-16 surrogate, which is not valid Unicode`;

  let bytes = 0;
  // Measures one value; enters containers (pushes a frame). Returns a failure or null.
  const visit = (value: unknown): PayloadCheck | null => {
    switch (typeof value) {
      case "string": {
        const n = storedStringBytes(value);
        if (n < 0) return fail(n === STRING_NUL ? "nul" : "lone_surrogate", stringFailure(n, "the string"));
        bytes += n;
        return null;
      }
      case "number":
        if (!Number.isFinite(value)) return fail("not_finite", `${String(value)} is not a finite number`);
        bytes += storedNumberBytes(value);
        return null;
      case "boolean":
        bytes += value ? 4 : 5;
        return null;
      case "object": {
        if (value === null) {
          bytes += 4;
          return null;
        }
        if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
          return fail("not_json", "is not a JSON value (an object with a toJSON method, such as a Date); send its JSON form");
        }
        if (stack.length >= maxDepth) return fail("too_deep", `is nested deeper than ${maxDepth} levels (MAX_PAYLOAD_DEPTH)`);
        const isArray = Array.isArray(value);
        const keys = isArray ? null : Object.keys(value);
        const size = isArray ? value.length : keys!.length;
        bytes += 2 + (size > 1 ? 2 * (size - 1) : 0); // brackets and ", " separators
        stack.push({ value: value as Frame["value"], keys, next: 0, size });
        return null;
      }
      default:
        return fail("not_json", `is not a JSON value (${typeof value})`);
    }
  };

  const first = visit(payload);
  if (first) return first;
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next === frame.size) {
      stack.pop();
      continue;
    }
    const i = frame.next++;
    let child: unknown;
    if (frame.keys) {
      const key = frame.keys[i]!;
      const n = storedStringBytes(key);
      if (n < 0) return fail(n === STRING_NUL ? "nul" : "lone_surrogate", stringFailure(n, "the key"));
      bytes += n + 2; // the key and ": "
      child = (frame.value as Record<string, unknown>)[key];
    } else {
      child = (frame.value as unknown[])[i];
    }
    const failure = visit(child);
    if (failure) return failure;
  }
  if (bytes > maxBytes) {
    return {
      ok: false,
      rule: "too_large",
      path: root,
      storedBytes: bytes,
      message: `is ${bytes} bytes as stored; the limit is ${maxBytes} (MAX_PAYLOAD_BYTES)`,
    };
  }
  return { ok: true, storedBytes: bytes };
}
