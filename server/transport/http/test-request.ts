import http from "node:http";

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

/**
 * A request to a test server on 127.0.0.1:`port` (for the HTTP edge's unit tests). Sends the head and
 * `body`, but with `declared`, declares that many bytes instead: the rest never comes, as from a
 * client whose upload is cut short or still under way.
 */
export function rawRequest(port: number, method: string, path: string, options: { token?: string; body?: string; declared?: number } = {}) {
  return new Promise<RawAnswer>((resolve, reject) => {
    const body = options.body ?? "";
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        agent: false,
        headers: {
          ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
          "Content-Length": String(options.declared ?? Buffer.byteLength(body)),
        },
      },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: text ? (JSON.parse(text) as RawAnswer["body"]) : {} }));
      },
    );
    req.on("error", reject);
    if (options.declared === undefined) req.end(body);
    else req.write(body);
  });
}
