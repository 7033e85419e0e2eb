/**
 * The production HTTP server (`front=service`: the container image runs this file's bundle; `npm start` runs it
 * through lambdas/local/main.ts). The primary forks one worker per CPU; each worker runs this file again and
 * serves. Settings: lambdas/server/settings.ts (PORT, WORKERS, MAX_IN_FLIGHT, API keys, time-outs, …) and the
 * handlers' runtime configuration; Redis as for the Lambda functions (REDIS_URL or REDIS_CLUSTER_NODES, …).
 */
import cluster from 'node:cluster';
import { runPrimary, runWorker } from './service';

const log = (line: string) => console.log(`skycache: ${line}`);

(cluster.isPrimary ? runPrimary({ log }) : runWorker(log)).catch((e: Error) => {
  console.error(`skycache: failed to start: ${e.message}`);
  process.exit(1);
});
