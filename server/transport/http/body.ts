import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { SwitchboardError } from "../../channels/errors";

/** How long a connection answered with `Connection: close` mid-upload stays half-open (see below). */
const LINGER_MS = 2000;

/**
 * An answer may go out before the request body was read (a refusal: 401, 403, 404, 413) or after it
 * was read only in part. The client must still get that answer, never a reset mid-upload:
 * - a declared body within MAX_BODY_BYTES is drained after the answer (read and discarded; Node
 *   does it once nothing else reads the request) and the connection stays usable;
 * - a body declared larger, or of unknown length (chunked), is not read further: the answer says
 *   `Connection: close`, and the connection is closed gracefully. Node would end and close the
 *   socket at once, and closing with the client's unread upload in the receive buffer makes the
 *   kernel send a reset that can arrive before the client has read the answer. So the socket is
 *   half-closed after the answer (FIN: the client sees the answer and the end) and only destroyed
 *   LINGER_MS later; it reads nothing meanwhile, so a hostile upload costs no CPU.
 */
export function settleUnreadBody(req: IncomingMessage, res: ServerResponse, limit: number) {
  if (req.complete || req.readableEnded || res.headersSent) return;
  const declared = req.headers["content-length"] === undefined ? undefined : Number(req.headers["content-length"]);
  req.removeAllListeners("data");
  if (declared !== undefined && Number.isFinite(declared) && declared <= limit) {
    req.resume();
    return;
  }
  req.pause();
  res.setHeader("Connection", "close");
  const socket = req.socket as Socket & { destroySoon?: () => void };
  socket.destroySoon = () => {
    socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once("close", () => clearTimeout(timer));
  };
}

/**
 * Reads a JSON body of at most `limit` bytes. A declared Content-Length over the limit is refused
 * with 413 before a byte is read; a body of unknown length is cut off at the limit. Either way the
 * rest is left unread for settleUnreadBody.
 */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > limit) {
    throw new SwitchboardError("payload_too_large", `Request body is ${declared} bytes; the limit is ${limit} (MAX_BODY_BYTES).`);
  }
  const body = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      done();
      req.pause();
      reject(new SwitchboardError("payload_too_large", `Request body exceeds ${limit} bytes (MAX_BODY_BYTES).`));
    };
    const onEnd = () => {
      done();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      done();
      reject(new SwitchboardError("invalid_request", "The request body was cut off.", { cause: err }));
    };
    const onClose = () => {
      if (req.complete) return;
      done();
      reject(new SwitchboardError("invalid_request", "The request body was cut off."));
    };
    req.on("data", onData);
    req.once("end", onEnd);
    req.once("error", onError);
    req.once("close", onClose);
  });
  const text = body.toString("utf8");
  if (!text) throw new SwitchboardError("invalid_request", "The request body is empty; send JSON.");
  try {
    return JSON.parse(text);
  } catch {
    throw new SwitchboardError("invalid_request", "The request body is not valid JSON.");
  }
}
