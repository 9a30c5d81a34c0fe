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
  private readonly nonce = randomBytes(6).toString("hex");
  private readonly marker = `\u0000raw-json-${this.nonce}:`;
  /** The marker as JSON.stringify writes it (NUL as the six characters `\u0000`), in quotes. */
  private readonly markerPattern = new RegExp(`"\\\\u0000raw-json-${this.nonce}:(\\d+)"`, "g");

  override encode(packet: Packet): unknown[] {
    const isJsonPacket = packet.type === PacketType.EVENT || packet.type === PacketType.ACK;
    if (!isJsonPacket || !Array.isArray(packet.data) || !hasRawJson(packet.data)) return super.encode(packet);
    let head = String(packet.type);
    if (packet.nsp && packet.nsp !== "/") head += packet.nsp + ",";
    if (packet.id !== undefined && packet.id !== null) head += packet.id;
    const raws: string[] = [];
    const json = JSON.stringify(packet.data, (_key, value: unknown) => {
      if (!(value instanceof RawJson)) return value;
      raws.push(value.json);
      return this.marker + (raws.length - 1);
    });
    return [head + json.replace(this.markerPattern, (_match, index: string) => raws[Number(index)]!)];
  }
}

/** The `parser` option of Socket.IO's Server. */
export const rawJsonParser = { Encoder: RawJsonEncoder, Decoder };
