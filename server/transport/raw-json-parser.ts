import { randomBytes } from "node:crypto";
import { Decoder, Encoder, PacketType, type Packet } from "socket.io-parser";

/**
 * JSON text to be sent as it is inside a Socket.IO message: the subscribe answer carries the history
 * as the database built it, so the server neither decodes 1,000 rows into objects nor encodes them
 * again (decision 8). Only values the server produced itself may be wrapped.
 */
export class RawJson {
  constructor(readonly json: string) {}
}

const hasRawJson = (args: unknown[]) =>
  args.some((arg) => arg !== null && typeof arg === "object" && Object.values(arg).some((v) => v instanceof RawJson));

/**
 * Socket.IO's default encoder, which splices `RawJson` values into the packet's JSON. The wire format
 * is the default parser's, so clients use the default parser; packets without `RawJson` are encoded
 * by the default encoder unchanged.
 */
class RawJsonEncoder extends Encoder {
  /** Marks a RawJson's place in the JSON: NUL-prefixed and random per process. */
  private readonly marker = `\u0000raw-json-${randomBytes(6).toString("hex")}:`;

  override encode(packet: Packet): unknown[] {
    const isJsonPacket = packet.type === PacketType.EVENT || packet.type === PacketType.ACK;
    if (!isJsonPacket || !Array.isArray(packet.data) || !hasRawJson(packet.data)) return super.encode(packet);
    let encoded = String(packet.type);
    if (packet.nsp && packet.nsp !== "/") encoded += packet.nsp + ",";
    if (packet.id !== undefined && packet.id !== null) encoded += packet.id;
    const raws: string[] = [];
    const json = JSON.stringify(packet.data, (_key, value: unknown) => {
      if (!(value instanceof RawJson)) return value;
      raws.push(value.json);
      return this.marker + (raws.length - 1);
    });
    // Markers appear in the order the replacer made them, each exactly as JSON.stringify writes it.
    // Concatenation, not replace(): the raw text is not copied here.
    let from = 0;
    raws.forEach((raw, i) => {
      const quoted = JSON.stringify(this.marker + i);
      const at = json.indexOf(quoted, from);
      encoded += json.slice(from, at) + raw;
      from = at + quoted.length;
    });
    return [encoded + json.slice(from)];
  }
}

/** The `parser` option of Socket.IO's Server. */
export const rawJsonParser = { Encoder: RawJsonEncoder, Decoder };
