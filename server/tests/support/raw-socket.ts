import WebSocket from "ws";
import { SOCKET_PATH } from "../../../lib/protocol";

/**
 * A minimal Socket.IO v4 client over a bare WebSocket (Engine.IO protocol 4), for hostile tests: it
 * sends packets written as text, so arguments can hold what a JSON encoder never writes (lone
 * surrogate escapes, 1e400, nesting 5,000 deep) and any number of them before the ack.
 */
export class RawSocketIo {
  private nextAckId = 1;
  private readonly acks = new Map<number, (args: unknown) => void>();
  private closeListeners: ((why: string) => void)[] = [];
  closed: string | null = null;
  /** Text of EVENT packets the server sent (live events and the like), counted, not kept. */
  received = 0;

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data: WebSocket.RawData) => this.onMessage(data.toString()));
    ws.on("close", (code: number) => this.onClose(`websocket closed (${code})`));
    ws.on("error", (err: Error) => this.onClose(`websocket error: ${err.message}`));
  }

  /**
   * Opens the connection and sends the CONNECT packet with `authJson` (the text of the `auth` object).
   * Resolves with the socket once connected, or with the server's refusal (`connect_error` message).
   */
  static open(baseUrl: string, options: { authJson?: string; headers?: Record<string, string>; timeoutMs?: number } = {}) {
    return new Promise<{ socket: RawSocketIo } | { refused: string }>((resolve, reject) => {
      const url = `${baseUrl.replace(/^http/, "ws")}${SOCKET_PATH}/?EIO=4&transport=websocket`;
      const ws = new WebSocket(url, { headers: options.headers });
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`no answer to the Socket.IO handshake within ${options.timeoutMs ?? 5000} ms`));
      }, options.timeoutMs ?? 5000);
      const settle = (value: { socket: RawSocketIo } | { refused: string } | Error) => {
        clearTimeout(timer);
        ws.off("message", onMessage);
        if (value instanceof Error) reject(value);
        else resolve(value);
      };
      const onMessage = (data: WebSocket.RawData) => {
        const text = data.toString();
        if (text.startsWith("0")) return void ws.send(`40${options.authJson ?? ""}`); // Engine.IO open
        if (text === "2") return void ws.send("3");
        if (text.startsWith("40")) {
          const socket = new RawSocketIo(ws);
          return settle({ socket });
        }
        if (text.startsWith("44")) {
          ws.close();
          const body = JSON.parse(text.slice(2)) as { message?: unknown };
          return settle({ refused: String(body.message) });
        }
      };
      ws.on("message", onMessage);
      ws.once("error", (err) => settle(new Error(`websocket error before connect: ${err.message}`)));
      ws.once("close", (code) => settle(new Error(`websocket closed (${code}) before connect`)));
    });
  }

  get connected() {
    return this.closed === null;
  }

  /**
   * Sends `42<id>["name",…args]` (args given as JSON texts) and resolves with the ack's arguments, or
   * rejects when none comes within `timeoutMs` or the connection closes first.
   */
  emitWithAck(nameJson: string, argTexts: string[], timeoutMs = 5000): Promise<unknown[]> {
    if (this.closed) return Promise.reject(new Error(`connection already closed: ${this.closed}`));
    const id = this.nextAckId++;
    return new Promise<unknown[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.acks.delete(id);
        reject(new Error(`no ack within ${timeoutMs} ms`));
      }, timeoutMs);
      const onClose = (why: string) => {
        clearTimeout(timer);
        this.acks.delete(id);
        reject(new Error(`connection closed before the ack: ${why}`));
      };
      this.closeListeners.push(onClose);
      this.acks.set(id, (args) => {
        clearTimeout(timer);
        this.closeListeners = this.closeListeners.filter((l) => l !== onClose);
        resolve(args as unknown[]);
      });
      this.ws.send(`42${id}[${[nameJson, ...argTexts].join(",")}]`);
    });
  }

  /** Sends `42["name",…args]`, a message without an ack. */
  emit(nameJson: string, argTexts: string[]) {
    if (!this.closed) this.ws.send(`42[${[nameJson, ...argTexts].join(",")}]`);
  }

  close() {
    this.ws.close();
  }

  private onMessage(text: string) {
    if (text === "2") return void this.ws.send("3"); // ping
    if (text.startsWith("43")) {
      const match = /^43(\d+)/.exec(text);
      if (!match) return;
      const ack = this.acks.get(Number(match[1]));
      this.acks.delete(Number(match[1]));
      ack?.(JSON.parse(text.slice(match[0].length)));
      return;
    }
    if (text.startsWith("42")) this.received++;
    if (text.startsWith("41")) this.onClose("server sent DISCONNECT");
  }

  private onClose(why: string) {
    if (this.closed) return;
    this.closed = why;
    for (const l of this.closeListeners.splice(0)) l(why);
  }
}
