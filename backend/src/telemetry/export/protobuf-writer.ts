/** Spans up to this size of batch keep the writer's buffer between batches; a larger one is let go. */
const KEPT_BYTES = 1 << 20;

/**
 * A protobuf writer for one request at a time, in one pass: each length-delimited field
 * reserves one byte for its length and moves its contents when the length needs more
 * (upstream's writer does the same, after a first pass that only measures). The buffer is
 * reused from batch to batch; strings are written by a plain loop when short and ASCII,
 * and by Node's native UTF-8 encoder otherwise.
 */
export class ProtobufWriter {
  private buffer = Buffer.allocUnsafe(64 * 1024);
  pos = 0;

  /** The bytes written, as a copy the caller owns; the writer is ready for the next request. */
  take(): Uint8Array {
    const bytes = new Uint8Array(this.pos);
    bytes.set(this.buffer.subarray(0, this.pos));
    if (this.buffer.length > KEPT_BYTES) this.buffer = Buffer.allocUnsafe(64 * 1024);
    this.pos = 0;
    return bytes;
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.pos + bytes) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buffer.copy(grown, 0, 0, this.pos);
    this.buffer = grown;
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  /** Unsigned, or a negative int64 in two's complement (ten bytes), as protobuf's int64 wants. */
  varint(value: number): void {
    this.ensure(10);
    const buffer = this.buffer;
    let pos = this.pos;
    if (value >= 0 && value <= 0xffffffff) {
      let v = value >>> 0;
      while (v > 127) {
        buffer[pos++] = (v & 127) | 128;
        v >>>= 7;
      }
      buffer[pos++] = v;
      this.pos = pos;
      return;
    }
    const abs = Math.abs(value);
    let low = abs >>> 0;
    let high = (abs / 4294967296) >>> 0;
    if (value < 0) {
      low = ~low >>> 0;
      high = ~high >>> 0;
      low = (low + 1) >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    while (high > 0 || low > 127) {
      buffer[pos++] = (low & 127) | 128;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buffer[pos++] = low & 127;
    this.pos = pos;
  }

  /** Opens a length-delimited field; `end` with the returned position closes it. */
  begin(): number {
    this.ensure(1);
    return this.pos++;
  }

  end(at: number): void {
    const length = this.pos - at - 1;
    if (length < 128) {
      this.buffer[at] = length;
      return;
    }
    const size = length < 16384 ? 2 : length < 2097152 ? 3 : length < 268435456 ? 4 : 5;
    this.ensure(size - 1);
    this.buffer.copyWithin(at + size, at + 1, this.pos);
    this.pos += size - 1;
    let v = length;
    let pos = at;
    while (v > 127) {
      this.buffer[pos++] = (v & 127) | 128;
      v >>>= 7;
    }
    this.buffer[pos] = v;
  }

  /**
   * A length-delimited UTF-8 string, encoded by Node's native encoder. A JavaScript loop of
   * `charCodeAt` was cheaper in a micro-benchmark, but in the server it sees strings of every
   * representation V8 has (literals, concatenations, slices, numbers made text), its property
   * loads go megamorphic, and each character cost a stub-cache lookup: 60k instructions per
   * request of three spans (`npm run bench:instructions -- --functions 40`).
   */
  string(value: string): void {
    const length = value.length;
    if (length <= 42) {
      // at most 3 bytes per UTF-16 unit: 126 at most, so the length takes one byte
      this.ensure(length * 3 + 1);
      const written = this.buffer.write(value, this.pos + 1, 'utf8');
      this.buffer[this.pos] = written;
      this.pos += written + 1;
      return;
    }
    const bytes = Buffer.byteLength(value, 'utf8');
    this.varint(bytes);
    this.ensure(bytes);
    this.buffer.write(value, this.pos, bytes, 'utf8');
    this.pos += bytes;
  }

  bytes(value: Uint8Array): void {
    this.varint(value.length);
    this.ensure(value.length);
    this.buffer.set(value, this.pos);
    this.pos += value.length;
  }

  /** A trace or span id given in hex, as its bytes. */
  hexId(id: string): void {
    const length = id.length >>> 1;
    this.varint(length);
    this.ensure(length);
    const written = this.buffer.write(id, this.pos, length, 'hex');
    // what Node cannot read as hex (never an SDK id) is written as upstream's decoder would
    if (written !== length) for (let i = written; i < length; i++) this.buffer[this.pos + i] = hexByte(id, i * 2);
    this.pos += length;
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.buffer.writeUInt32LE(value >>> 0, this.pos);
    this.pos += 4;
  }

  fixed64(low: number, high: number): void {
    this.ensure(8);
    this.buffer.writeUInt32LE(low >>> 0, this.pos);
    this.buffer.writeUInt32LE(high >>> 0, this.pos + 4);
    this.pos += 8;
  }

  double(value: number): void {
    this.ensure(8);
    this.buffer.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }
}

function nibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  return code - 55;
}

function hexByte(id: string, at: number): number {
  return ((nibble(id.charCodeAt(at)) << 4) | nibble(id.charCodeAt(at + 1))) & 255;
}
