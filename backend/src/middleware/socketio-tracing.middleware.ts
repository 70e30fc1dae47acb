/**
 * Socket.io tracing, the public face: `createSocketTracing()` gives the `connection`
 * middleware (a `socket.io connection` span joining the client's trace) and the wrapper
 * that puts each event handler in a `socket.io <event>` CONSUMER span; `tracedRoomEmit`
 * and `tracingRedisAdapter` trace deliveries to rooms, across instances too. Dispatch
 * (acknowledging once, replying to errors) is the socket server's (realtime/); the
 * implementation lives in telemetry/socketio.
 */
export { createSocketTracing } from '../telemetry/socketio/tracing';
export { tracedRoomEmit, tracingRedisAdapter } from '../telemetry/socketio/delivery';
