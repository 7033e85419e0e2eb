import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { answerClientError } from '../http/node-http';
import type { ServerSettings } from './settings';

/**
 * A Node HTTP server with its timeouts set from the settings instead of Node's defaults:
 * - keep-alive idle timeout above the load balancer's (see KEEP_ALIVE_TIMEOUT_MS);
 * - a bound on receiving the headers (slowloris) and on receiving the whole request;
 * - no socket inactivity timeout beyond those: a request waiting on Redis is bounded by the route's own deadline.
 */
export function createServiceServer(
  listener: (req: IncomingMessage, res: ServerResponse) => void,
  settings: Pick<ServerSettings, 'keepAliveTimeoutMs' | 'headersTimeoutMs' | 'requestTimeoutMs'>,
): Server {
  const server = createServer(
    {
      keepAliveTimeout: settings.keepAliveTimeoutMs,
      headersTimeout: settings.headersTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      // Time-outs above are checked every second (Node's default 30 s would let them overrun by that much).
      connectionsCheckingInterval: 1000,
    },
    listener,
  );
  // What Node's parser refuses (headers too large, too slow) is answered in the JSON error model too.
  server.on('clientError', answerClientError);
  return server;
}

export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
