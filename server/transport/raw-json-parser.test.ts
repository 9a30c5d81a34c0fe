import { Decoder, Encoder, PacketType, type Packet } from "socket.io-parser";
import { describe, expect, it } from "vitest";
import { RawJson, rawJsonParser } from "./raw-json-parser";

function decode(encoded: unknown[]): Promise<Packet> {
  return new Promise((resolve) => {
    const decoder = new Decoder();
    decoder.on("decoded", resolve);
    for (const part of encoded) decoder.add(part as string);
  });
}

describe("RawJson parser", () => {
  const encoder = new rawJsonParser.Encoder();

  it("splices RawJson values into the packet as they are, and the default decoder reads them", async () => {
    // Text that looks like the marker, inside the raw JSON and inside an ordinary string, stays text.
    const history = [{ seq: 1, payload: { note: "\u0000raw-json-000000000000:0", nested: [1, null, "ünï ✓"] } }, { seq: 2, payload: {} }];
    const packet: Packet = {
      type: PacketType.ACK,
      nsp: "/",
      id: 17,
      data: [{ ok: true, subscriptionId: "\u0000raw-json-x:0", history: new RawJson(JSON.stringify(history)), head: 2, truncated: false }],
    };
    const encoded = encoder.encode(packet);
    expect(encoded).toHaveLength(1);
    expect(encoded[0]).toMatch(/^317\[/);
    const decoded = await decode(encoded);
    expect(decoded).toEqual({
      type: PacketType.ACK,
      nsp: "/",
      id: 17,
      data: [{ ok: true, subscriptionId: "\u0000raw-json-x:0", history, head: 2, truncated: false }],
    });
  });

  it("encodes packets without RawJson exactly as Socket.IO's default encoder does", () => {
    const packets: Packet[] = [
      { type: PacketType.EVENT, nsp: "/", data: ["event", { seq: 1, payload: { a: [1, 2] } }, "c1.x"] },
      { type: PacketType.ACK, nsp: "/", id: 3, data: [{ ok: false, error: { code: "not_found", message: "No." } }] },
      { type: PacketType.EVENT, nsp: "/admin", id: 4, data: ["x", 1] },
      { type: PacketType.CONNECT, nsp: "/", data: { sid: "abc" } },
    ];
    for (const packet of packets) expect(encoder.encode(packet)).toEqual(new Encoder().encode(packet));
  });
});
