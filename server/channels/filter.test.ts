import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileFilter, normalizeFilter } from "./filter";

const labels = fc.constantFrom("a", "b", "c", "atlas-coder", "beacon-tester");
const types = fc.constantFrom("task.created", "task.status_changed", "task.completed", "agent.hired", "agent.heartbeat", "budget.spent");
const eventArb = fc.record({ agent: fc.option(labels, { nil: null }), project: fc.option(labels, { nil: null }), type: types });
const oneOrMany = <T>(arb: fc.Arbitrary<T>) => fc.oneof(arb, fc.array(arb, { minLength: 1, maxLength: 3 }));
const typeFilter = fc.oneof(types, fc.constantFrom("task.*", "agent.*", "budget.*", "task.status_changed"));
const filterArb = fc.record(
  { agent: oneOrMany(labels), project: oneOrMany(labels), type: oneOrMany(typeFilter) },
  { requiredKeys: [] },
);

const asList = <T>(v: T | T[]) => (Array.isArray(v) ? v : [v]);

/** The reference model, written plainly. */
function expected(filter: { agent?: string | string[]; project?: string | string[]; type?: string | string[] }, e: { agent: string | null; project: string | null; type: string }) {
  if (filter.agent !== undefined && !asList(filter.agent).includes(e.agent as string)) return false;
  if (filter.project !== undefined && !asList(filter.project).includes(e.project as string)) return false;
  if (filter.type !== undefined) {
    const ok = asList(filter.type).some((t) => (t.endsWith(".*") ? e.type.startsWith(t.slice(0, -1)) : e.type === t));
    if (!ok) return false;
  }
  return true;
}

describe("filter matching", () => {
  it("matches exactly what the reference model matches", () => {
    fc.assert(
      fc.property(filterArb, eventArb, (filter, e) => {
        expect(compileFilter(normalizeFilter(filter))(e)).toBe(expected(filter, e));
      }),
      { numRuns: 2000 },
    );
  });

  it("an empty filter matches every event", () => {
    fc.assert(fc.property(eventArb, (e) => compileFilter(normalizeFilter(undefined))(e) && compileFilter(normalizeFilter({}))(e)));
  });

  it("fields combine with AND", () => {
    fc.assert(
      fc.property(filterArb, filterArb, eventArb, (f1, f2, e) => {
        fc.pre(Object.keys(f1).every((k) => !(k in f2)));
        const both = compileFilter(normalizeFilter({ ...f1, ...f2 }))(e);
        expect(both).toBe(compileFilter(normalizeFilter(f1))(e) && compileFilter(normalizeFilter(f2))(e));
      }),
    );
  });

  it("a prefix wildcard does not match a different segment that shares letters", () => {
    const match = compileFilter(normalizeFilter({ type: "task.*" }));
    expect(match({ agent: null, project: null, type: "task.created" })).toBe(true);
    expect(match({ agent: null, project: null, type: "tasks.created" })).toBe(false);
  });

  it("an agent filter never matches events without an agent", () => {
    expect(compileFilter(normalizeFilter({ agent: "a" }))({ agent: null, project: "a", type: "task.created" })).toBe(false);
  });
});
