import {
  Server,
  ServerCredentials,
  status,
  type ServiceDefinition,
  type sendUnaryData,
  type ServerUnaryCall,
} from '@grpc/grpc-js';
import { decodeTraceExport, type ReceivedSpan } from '../src/dev/otlp/decode';

/** A test OTLP/gRPC trace receiver: the collector's `TraceService/Export`, decoding every span. */
export interface GrpcReceiver {
  /** `http://127.0.0.1:<port>`, as OTEL_EXPORTER_OTLP_ENDPOINT takes it for grpc. */
  url: string;
  spans(): ReceivedSpan[];
  waitForSpan(match: (span: ReceivedSpan) => boolean, timeoutMs?: number): Promise<ReceivedSpan>;
  close(): Promise<void>;
}

const SERVICE: ServiceDefinition = {
  Export: {
    path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    requestStream: false,
    responseStream: false,
    requestSerialize: (value: Buffer) => value,
    requestDeserialize: (bytes: Buffer) => bytes,
    // an empty ExportTraceServiceResponse
    responseSerialize: () => Buffer.alloc(0),
    responseDeserialize: (bytes: Buffer) => bytes,
  },
};

export async function startGrpcReceiver(): Promise<GrpcReceiver> {
  const received: ReceivedSpan[] = [];
  const server = new Server();
  server.addService(SERVICE, {
    Export: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
      try {
        received.push(...decodeTraceExport({ contentType: 'application/x-protobuf', body: call.request }));
        callback(null, Buffer.alloc(0));
      } catch (error) {
        callback({ code: status.INVALID_ARGUMENT, details: (error as Error).message });
      }
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => received,
    async waitForSpan(match, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const found = received.find(match);
        if (found) return found;
        if (Date.now() > until)
          throw new Error(`no matching span over gRPC within ${timeoutMs} ms (${received.length} received)`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close: () => new Promise((resolve) => server.tryShutdown(() => resolve())),
  };
}
