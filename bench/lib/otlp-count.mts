/**
 * Counts the spans in an OTLP ExportTraceServiceRequest (protobuf) without decoding them:
 * resource_spans (1) → scope_spans (2) → spans (2), and each span's trace_id (1). Enough for
 * "spans per request" and for how they spread over traces.
 */
function varint(buf: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    const byte = buf[pos++]!;
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [result, pos];
    shift += 7;
  }
}

function fields(buf: Uint8Array, wanted: number, visit: (inner: Uint8Array) => void): void {
  let pos = 0;
  while (pos < buf.length) {
    let key: number;
    [key, pos] = varint(buf, pos);
    const field = Math.floor(key / 8);
    const type = key & 7;
    if (type === 0) [, pos] = varint(buf, pos);
    else if (type === 1) pos += 8;
    else if (type === 5) pos += 4;
    else if (type === 2) {
      let length: number;
      [length, pos] = varint(buf, pos);
      if (field === wanted) visit(buf.subarray(pos, pos + length));
      pos += length;
    } else throw new Error(`unsupported wire type ${type}`);
  }
}

/** Adds each span of the request to `perTrace` (trace id → spans); returns how many there were. */
export function countSpans(body: Uint8Array, perTrace?: Map<string, number>): number {
  let count = 0;
  fields(body, 1, (resourceSpans) =>
    fields(resourceSpans, 2, (scopeSpans) =>
      fields(scopeSpans, 2, (span) => {
        count += 1;
        if (perTrace === undefined) return;
        let traceId = '';
        fields(span, 1, (id) => {
          traceId = Buffer.from(id).toString('hex');
        });
        perTrace.set(traceId, (perTrace.get(traceId) ?? 0) + 1);
      }),
    ),
  );
  return count;
}

/** `{ "3": 12254 }`: how many traces hold how many spans. */
export function histogram(perTrace: Map<string, number>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const spans of perTrace.values()) counts[spans] = (counts[spans] ?? 0) + 1;
  return counts;
}
