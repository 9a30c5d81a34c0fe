import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { settleUnreadBody } from "./body";

/** What a handler answers; the router writes it. Errors are thrown instead (see router.ts). */
export interface Reply {
  readonly status: number;
  readonly headers: OutgoingHttpHeaders;
  readonly body?: string;
}

/** One object for every JSON answer: Node's writeHead reads it and never changes it. */
const JSON_HEADERS: OutgoingHttpHeaders = { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" };

/** JSON text the server already holds (the store's history page, the fanout's event JSON), sent as it is. */
export function jsonText(status: number, text: string, headers?: OutgoingHttpHeaders): Reply {
  return { status, headers: headers ? { ...JSON_HEADERS, ...headers } : JSON_HEADERS, body: text };
}

export function json(status: number, value: unknown, headers?: OutgoingHttpHeaders): Reply {
  return jsonText(status, JSON.stringify(value), headers);
}

export function text(status: number, contentType: string, body: string): Reply {
  return { status, headers: { "Content-Type": contentType }, body };
}

export function empty(status: number, headers: OutgoingHttpHeaders = {}): Reply {
  return { status, headers };
}

/**
 * Every answer of the router goes out here, so a request body it did not read is dealt with first
 * (`drainLimit`: MAX_BODY_BYTES, how much of it is read and discarded; see settleUnreadBody).
 */
export function send(req: IncomingMessage, res: ServerResponse, drainLimit: number, reply: Reply) {
  settleUnreadBody(req, res, drainLimit);
  res.writeHead(reply.status, reply.headers).end(reply.body);
}
