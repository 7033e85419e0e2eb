/** `npm start`'s server (lambdas/local/server.ts) against REDIS_URL, in its own process. Prints its URL on stdout. */
import { startLocalServer } from '../../lambdas/local/server';
import { closeServices } from '../../lambdas/services';

startLocalServer({ port: Number(process.env.PORT ?? 0) }).then((server) => {
  console.log(server.url);
  process.on('SIGTERM', () => {
    void server.close().then(closeServices);
  });
});
// SIGINT ends the process normally, so `node --cpu-prof` can write its profile.
process.on('SIGINT', () => process.exit(0));
