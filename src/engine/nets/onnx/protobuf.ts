// A minimal protocol-buffers WRITER: just what an ONNX model file needs (varints, length-delimited
// fields, packed repeated scalars, nested messages). Why by hand: the npm ONNX schema package
// (onnx-proto) pins protobufjs 6, a major behind, for six message types we only ever write; the wire
// format is small and fixed (protobuf encoding spec: wire types 0 = varint, 2 = length-delimited,
// 5 = 32-bit). Large payloads (weights) are kept as references to their bytes and copied once, at the
// end, so a 60 MB model is not copied per nesting level.

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_32BIT = 5;

/** Bytes of a base-128 varint of a non-negative integer (≤ 2^53; int64 fields here are shapes and versions). */
export function varint(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`protobuf varint: ${n} is not a non-negative safe integer`);
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Uint8Array.from(out);
}

const utf8 = new TextEncoder();

/** One message under construction: a list of byte chunks (shared, not copied) and their total length. */
export class PbMessage {
  private readonly chunks: Uint8Array[] = [];
  private len = 0;

  get byteLength(): number {
    return this.len;
  }

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.len += b.byteLength;
  }

  private tag(field: number, wire: number): void {
    this.push(varint(field * 8 + wire));
  }

  /** int32 / int64 / enum / bool field (non-negative values only). */
  int(field: number, value: number): this {
    this.tag(field, WIRE_VARINT);
    this.push(varint(value));
    return this;
  }

  /** bytes field; the array is referenced, not copied, until finish(). */
  bytes(field: number, value: Uint8Array): this {
    this.tag(field, WIRE_LEN);
    this.push(varint(value.byteLength));
    this.push(value);
    return this;
  }

  /** float field (wire type 5: 4 bytes, little-endian IEEE-754). */
  float(field: number, value: number): this {
    this.tag(field, WIRE_32BIT);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** Embedded message field. */
  message(field: number, m: PbMessage): this {
    this.tag(field, WIRE_LEN);
    this.push(varint(m.len));
    for (const c of m.chunks) this.push(c);
    return this;
  }

  /** packed repeated int64/int32 (non-negative). */
  packedInts(field: number, values: readonly number[]): this {
    const parts = values.map(varint);
    const body = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) body.set(p, (o += p.length) - p.length);
    return this.bytes(field, body);
  }

  /** packed repeated float (little-endian IEEE-754, wire type 2 around 32-bit values). */
  packedFloats(field: number, values: readonly number[]): this {
    const b = new Uint8Array(4 * values.length);
    const dv = new DataView(b.buffer);
    values.forEach((v, i) => dv.setFloat32(4 * i, v, true));
    return this.bytes(field, b);
  }

  /** The encoded message as one buffer. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.len);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.byteLength;
    }
    return out;
  }
}
