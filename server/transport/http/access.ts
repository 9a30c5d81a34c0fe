import { ROLES, type Role } from "../../../lib/protocol";
import { SwitchboardError } from "../../channels/errors";
import type { Principal } from "../../channels/subscriber";

/**
 * What a route needs before its handler runs. Every route declares one (the field has no default),
 * so a route without a rule does not compile:
 * - `"public"`: no token is read at all (health, metrics, signing in and out);
 * - `"any-token"`: a valid token of any role;
 * - a list of roles: a valid token of one of them; another role is `forbidden`.
 * Who may publish to which channel is the hub's rule (`hub.assertMayPublish`, shared with the
 * socket's publish), checked by the publish route's precheck; the channel is the target, not the route.
 */
export type Access = "public" | "any-token" | readonly [Role, ...Role[]];

/** For the router's start-up check, against routes built outside the type system (casts, JS). */
export function isAccess(value: unknown): value is Access {
  if (value === "public" || value === "any-token") return true;
  return Array.isArray(value) && value.length > 0 && value.every((role) => (ROLES as readonly unknown[]).includes(role));
}

/**
 * The one authorization point of the HTTP API. The router calls it for every route that is not
 * public, with the principal of the token the request presented (null: none, or an invalid one),
 * after matching the route and before reading anything else of the request. Project scopes are to
 * be checked here as well: the request's scope becomes a third argument, the principal carries the
 * token's scope.
 */
export function authorize(access: Exclude<Access, "public">, principal: Principal | null): Principal {
  if (!principal) {
    throw new SwitchboardError("unauthorized", "Missing or invalid token: send `Authorization: Bearer <token>` or sign in.");
  }
  if (access !== "any-token" && !access.includes(principal.role)) {
    throw new SwitchboardError("forbidden", `This needs a token of role ${access.join(" or ")}; this one is ${principal.role}.`);
  }
  return principal;
}
