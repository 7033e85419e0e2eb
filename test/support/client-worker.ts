/**
 * One OS process of the client tests (test/client.test.ts): says "ready", waits for "go" on stdin, then runs `count` concurrent
 * getOrSet calls on `key` against the service at `url`, and prints one JSON line: how many times its loader ran,
 * and the values its calls answered. The loader prints "loading" when it starts and takes `delayMs` (a very
 * long one stands for a holder that hangs: the test kills it).
 *   node --import tsx test/support/client-worker.ts <url> <key> <count> <delayMs> <tag> <leaseMs> [graceSeconds]
 */
import { createInterface } from 'node:readline';
import { SkycacheClient } from '../../client/src/index.js';

async function main(): Promise<void> {
  const [url, key, count, delayMs, tag, leaseMs, grace] = process.argv.slice(2);
  const client = new SkycacheClient({ baseUrl: url, timeoutMs: 60_000 });
  let loads = 0;
  const loader = async () => {
    loads++;
    process.stdout.write('loading\n');
    await new Promise((r) => setTimeout(r, Number(delayMs)));
    return { by: tag };
  };
  const started = new Promise<void>((resolve) => createInterface({ input: process.stdin }).on('line', (line) => line === 'go' && resolve()));
  process.stdout.write('ready\n');
  await started;
  const options = { ttl: 60, lease: Number(leaseMs), grace: grace ? Number(grace) : undefined, maxWaitMs: 60_000 };
  const values = await Promise.all(Array.from({ length: Number(count) }, () => client.getOrSet(key, loader, options)));
  await client.idle();
  process.stdout.write(JSON.stringify({ loads, values }) + '\n');
  process.exit(0);
}

main().catch((e: Error) => {
  process.stderr.write(`worker failed: ${e.stack}\n`);
  process.exit(1);
});
