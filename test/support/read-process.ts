/**
 * A separate process for test/read-path.test.ts: serves `hits` GETs of an existing entry and `misses` GETs of absent
 * keys through the get-entry handler, spread over `seconds`, then shuts down (which publishes what is left) and
 * prints what it did. Its environment (REDIS_URL, HIT_COUNTS) comes from the test.
 */
import { handler } from '../../lambdas/handlers/get-entry';
import { closeServices } from '../../lambdas/services';
import { lambdaContext, proxyEvent } from './events';

async function main(): Promise<void> {
  const [hits, misses, seconds] = process.argv.slice(2).map(Number);
  const total = hits + misses;
  const started = Date.now();
  const answered: Record<number, number> = {};
  for (let i = 0; i < total; i++) {
    const key = i < hits ? 'present' : `absent:${i}`;
    const res = await handler(proxyEvent({ resource: '/cache/{key}', pathParameters: { key }, path: `/cache/${key}` }), lambdaContext);
    answered[res.statusCode] = (answered[res.statusCode] ?? 0) + 1;
    // Spread the reads over the run, so the process publishes several times.
    const due = started + ((i + 1) / total) * seconds * 1000;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
  }
  await closeServices();
  console.log(JSON.stringify(answered));
}

main().catch((e: Error) => {
  console.error(e.stack);
  process.exit(1);
});
