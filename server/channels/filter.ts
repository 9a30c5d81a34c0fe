import type { EventFilter, SwitchboardEvent } from "../../lib/protocol";

export type EventPredicate = (event: Pick<SwitchboardEvent, "agent" | "project" | "type">) => boolean;

/** A filter in a form both the matcher and the history store can use. */
export interface NormalizedFilter {
  agents?: string[];
  projects?: string[];
  /** Exact types. */
  types?: string[];
  /** Type prefixes, with the trailing `*` removed: `task.*` becomes `task.`. */
  typePrefixes?: string[];
}

const list = (v: string | string[] | undefined) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

export function normalizeFilter(filter: EventFilter | undefined): NormalizedFilter {
  if (!filter) return {};
  const types = list(filter.type);
  return {
    agents: list(filter.agent),
    projects: list(filter.project),
    types: types?.filter((t) => !t.endsWith("*")),
    typePrefixes: types?.filter((t) => t.endsWith("*")).map((t) => t.slice(0, -1)),
  };
}

/**
 * Fields combine with AND, values within a field with OR. An event whose agent or project is null
 * never matches a filter on that field.
 */
export function compileFilter(filter: NormalizedFilter): EventPredicate {
  const agents = filter.agents && new Set(filter.agents);
  const projects = filter.projects && new Set(filter.projects);
  const types = filter.types && new Set(filter.types);
  const prefixes = filter.typePrefixes ?? [];
  const filtersType = types !== undefined || prefixes.length > 0;
  return (event) => {
    if (agents && (event.agent === null || !agents.has(event.agent))) return false;
    if (projects && (event.project === null || !projects.has(event.project))) return false;
    if (filtersType && !(types?.has(event.type) || prefixes.some((p) => event.type.startsWith(p)))) return false;
    return true;
  };
}
