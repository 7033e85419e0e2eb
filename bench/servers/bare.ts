/**
 * The reference for "our own overhead": a bare Node http server that answers GET /<key> with the key's value from
 * Redis through ioredis, nothing else. Prints its URL on stdout. REDIS_URL, PORT.
 */
import Redis from 'ioredis';
import { createServer } from 'node:http';

const redis = new Redis(process.env.REDIS_URL!);
const server = createServer((req, res) => {
  redis.get(decodeURIComponent((req.url ?? '/').slice(1))).then(
    (value) => {
      if (value === null) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(value) });
      res.end(value);
    },
    () => res.writeHead(503).end(),
  );
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  console.log(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
});
process.on('SIGTERM', () => {
  redis.disconnect();
  server.close();
  server.closeAllConnections();
});
