/** What the stubs of this folder throw if an option skycache never sets ever reaches them (each says why it can't). */
export function unbundled(what: string): never {
  throw new Error(`${what} is not in skycache's bundles (lib/bundling.ts)`);
}
