import type { ErrorBody, ErrorCode } from "../../lib/protocol";

/**
 * The one error type the core throws on purpose. Its `code` is stable and maps to an HTTP status and
 * a socket ack in one place (server/transport/errors.ts); the message says what to do about it.
 */
export class SwitchboardError extends Error {
  readonly code: ErrorCode;
  /** For `unavailable` and `rate_limited`: how long a client should wait before retrying. */
  readonly retryAfterSeconds?: number;

  constructor(code: ErrorCode, message: string, options?: { retryAfterSeconds?: number; cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.name = "SwitchboardError";
    this.code = code;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message };
  }
}

export const isSwitchboardError = (err: unknown): err is SwitchboardError => err instanceof SwitchboardError;
