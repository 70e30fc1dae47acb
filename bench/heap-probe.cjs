// Preloaded into the bench's servers (NODE_OPTIONS=--expose-gc --require …): on SIGUSR2,
// collect garbage and write the heap after GC, the RSS and the peak RSS to BENCH_HEAP_FILE.
const { appendFileSync, readFileSync } = require('node:fs');
process.on('SIGUSR2', () => {
  global.gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024;
  appendFileSync(process.env.BENCH_HEAP_FILE, `${JSON.stringify({ heapUsed, rss, peakRss: hwm })}\n`);
});
