/**
 * Stands in for the `debug` package in every bundle (lib/bundling.ts aliases `debug` to this file). ioredis traces
 * through `debug`, which prints only under DEBUG=ioredis:*; that package and its own dependencies (ms,
 * supports-color, has-flag) were 10 KB of every handler bundle and work at import. The service logs through
 * Powertools; ioredis's trace stays available unbundled (`DEBUG=ioredis:* npm start`).
 */
export default function createDebug(namespace: string) {
  const log = (..._args: unknown[]): void => undefined;
  return Object.assign(log, {
    namespace,
    enabled: false,
    log,
    destroy: () => true,
    extend: (sub: string) => createDebug(`${namespace}:${sub}`),
  });
}
