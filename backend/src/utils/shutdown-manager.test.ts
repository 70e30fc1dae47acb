import { describe, expect, it } from 'vitest';
import { captureLogs } from '../../testing/log-capture';
import { ShutdownManager } from './shutdown-manager';

function setup(timeoutMs = 1_000, repeatWindowMs = 50) {
  const { lines, logger } = captureLogs();
  const exits: number[] = [];
  const manager = new ShutdownManager({ logger, timeoutMs, repeatWindowMs, exit: (code) => exits.push(code) });
  return { manager, exits, lines };
}

describe('ShutdownManager', () => {
  it('when shutting down, then handlers run by order, then registration, and the exit code is 0', async () => {
    const { manager, exits } = setup();
    const ran: string[] = [];
    manager.register('telemetry', () => void ran.push('telemetry'), { order: 100 });
    manager.register(
      'server',
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        ran.push('server');
      },
      { order: 10 },
    );
    manager.register('pool', () => void ran.push('pool'), { order: 20 });
    manager.register('cache', () => void ran.push('cache'), { order: 20 });
    expect(await manager.shutdown('SIGTERM')).toBe(0);
    expect(ran).toEqual(['server', 'pool', 'cache', 'telemetry']);
    expect(exits).toEqual([0]);
  });

  it('when a handler fails, then the rest still run and the exit code is 1', async () => {
    const { manager, exits, lines } = setup();
    const ran: string[] = [];
    manager.register('first', () => {
      throw new Error('pool already closed');
    });
    manager.register('second', () => void ran.push('second'));
    expect(await manager.shutdown('SIGTERM')).toBe(1);
    expect(ran).toEqual(['second']);
    expect(exits).toEqual([1]);
    expect(lines.find((line) => line.msg === 'shutdown step failed; continuing')).toMatchObject({
      handler: 'first',
      err: { message: 'pool already closed' },
    });
  });

  it('when handlers outlast the deadline, then it exits 1 at the deadline naming the pending step', async () => {
    const { manager, exits, lines } = setup(100);
    manager.register('stuck', () => new Promise(() => {}));
    const started = Date.now();
    expect(await manager.shutdown('SIGTERM')).toBe(1);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(exits).toEqual([1]);
    expect(lines.find((line) => line.msg === 'shutdown deadline passed; exiting anyway')).toMatchObject({
      pending: 'stuck',
    });
  });

  it('when the signal is repeated just after the first (npm forwarding Ctrl-C, a process-group kill), then it is the same request and shutdown completes with 0', async () => {
    const { manager, exits, lines } = setup(1_000, 1_000);
    let release!: () => void;
    manager.register('slow', () => new Promise<void>((resolve) => (release = resolve)));
    manager.onSignal('SIGINT');
    manager.onSignal('SIGINT');
    manager.onSignal('SIGTERM');
    expect(exits).toEqual([]);
    expect(
      lines.filter((line) => line.msg === 'signal repeated while shutting down: same request, shutdown goes on'),
    ).toHaveLength(2);
    release();
    expect(await manager.shutdown('ignored')).toBe(0);
    expect(exits).toEqual([0]);
  });

  it('when a second signal arrives after the repeat window, then it exits at once with the signal code', async () => {
    const { manager, exits } = setup();
    let release!: () => void;
    manager.register('slow', () => new Promise<void>((resolve) => (release = resolve)));
    manager.onSignal('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 80));
    manager.onSignal('SIGINT');
    expect(exits).toEqual([130]);
    release();
    await manager.shutdown('ignored');
    expect(exits).toEqual([130, 0]);
  });

  it('when shutdown is asked for twice, then the handlers run once', async () => {
    const { manager } = setup();
    let runs = 0;
    manager.register('once', () => {
      runs += 1;
    });
    await Promise.all([manager.shutdown('a'), manager.shutdown('b')]);
    expect(runs).toBe(1);
  });
});
