/**
 * PLACEHOLDER — the production HTTP server of `front=service` (issue 12, item 1) replaces this file.
 *
 * It exists so the container image (Dockerfile) and its bundle (lib/bundling.ts `serverBuildOptions`) have their
 * entry point. The contract the real server keeps, which the infrastructure (lib/constructs/service.ts) relies on:
 * - node:cluster, one worker per CPU; listens on PORT (the image sets 8080) on all interfaces;
 * - `GET /healthz`: liveness, never touches Redis (the image's HEALTHCHECK);
 * - `GET /readyz`: readiness, 200 only while Redis answers (the load balancer's target group health check);
 * - API keys: API_KEY_HASHES_SECRET_ARN names a Secrets Manager secret whose value is JSON
 *   `{"sha256": ["<hex SHA-256 of a key>", …]}`, checked against the `x-api-key` header;
 * - Redis: the same environment as the Lambda functions (REDIS_URL or REDIS_CLUSTER_NODES, REDIS_TLS,
 *   REDIS_USERNAME, REDIS_AUTH_SECRET_ARN, REDIS_READ_FROM, …);
 * - SIGTERM: stop accepting, finish in-flight requests within the ECS stop timeout, close Redis, exit 0.
 *
 * Until then it serves the local HTTP adapter, which has none of the above beyond the routes.
 */
import { closeServices } from '../services';
import { startLocalServer } from '../local/server';

async function main(): Promise<void> {
  const server = await startLocalServer({ port: Number(process.env.PORT ?? 8080), host: process.env.HOST ?? '0.0.0.0' });
  console.log(`skycache: listening on ${server.url}`);
  process.once('SIGTERM', () => {
    void server.close().then(closeServices).then(() => process.exit(0));
  });
}

main().catch((e: Error) => {
  console.error(`skycache: failed to start: ${e.message}`);
  process.exit(1);
});
