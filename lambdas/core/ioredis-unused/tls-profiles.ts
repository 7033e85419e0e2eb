/**
 * Stands in for ioredis's built/constants/TLSProfiles in the bundles (lib/bundling.ts). That table (8 KB minified)
 * holds CA certificates for `tls: '<profile name>'` (or `tls: { profile }`) options; lambdas/core/redis.ts passes
 * `tls: {}` (ElastiCache's certificates chain to the public roots Node trusts), never a profile, so ioredis only
 * ever looks up the profile `undefined`. Any other name throws, rather than connecting without the profile's CA.
 */
import { unbundled } from './unbundled';

const profiles: Record<string, undefined> = new Proxy(
  {},
  {
    get(_target, name) {
      return name === 'undefined' ? undefined : unbundled(`ioredis TLS profile ${String(name)}`);
    },
  },
);
export default profiles;
