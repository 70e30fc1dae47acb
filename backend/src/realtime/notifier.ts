import { Emitter } from '@socket.io/redis-emitter';
import type { Redis } from 'ioredis';
import type { Server } from 'socket.io';
import { tracedRoomEmit } from '../middleware/socketio-tracing.middleware';

/** Server-initiated events a user's sockets receive, wherever they are connected. */
export type UserEvent = 'plan:ready' | 'plan:failed';

export interface Notifier {
  notifyUser(userId: string, event: UserEvent, payload: Record<string, unknown>): void;
}

/** Every socket of a user joins this room on connection. */
export function userRoom(userId: string): string {
  return `user:${userId}`;
}

/** The Socket.io adapter's Redis key: the emitter must use the same one. */
export function socketIoKey(prefix: string): string {
  return `${prefix}:socket.io`;
}

/** From an API instance: through its adapter, so other instances deliver too when Redis is configured. */
export function socketNotifier(io: Server): Notifier {
  return {
    notifyUser(userId, event, payload) {
      const room = userRoom(userId);
      tracedRoomEmit(event, room, payload, (withTrace) => io.to(room).emit(event, withTrace));
    },
  };
}

/** From a process without sockets (the worker): publishes to the instances' adapter through Redis. */
export function redisEmitterNotifier(redis: Redis, prefix: string): Notifier {
  const emitter = new Emitter(redis, { key: socketIoKey(prefix) });
  return {
    notifyUser(userId, event, payload) {
      const room = userRoom(userId);
      tracedRoomEmit(event, room, payload, (withTrace) => emitter.to(room).emit(event, withTrace));
    },
  };
}
