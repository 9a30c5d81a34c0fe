import { ZodError } from "zod";
import { ERROR_CODES, type ErrorBody } from "../../lib/protocol";
import { SwitchboardError, isSwitchboardError } from "../channels/errors";

/** Turns any thrown value into the error a client sees; unknown errors become a generic 500. */
export function toSwitchboardError(err: unknown): SwitchboardError {
  if (isSwitchboardError(err)) return err;
  if (err instanceof ZodError) return new SwitchboardError("invalid_request", describeZodError(err));
  return new SwitchboardError("internal", "Internal error; it has been logged.", { cause: err });
}

export function describeZodError(err: ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message))
    .join("; ");
}

export const httpStatusOf = (err: SwitchboardError) => ERROR_CODES[err.code];

export const errorBody = (err: SwitchboardError): { error: ErrorBody } => ({ error: err.toBody() });
