import { CacheError } from '../core/errors';
import { json } from './results';
import type { Operation } from './middleware';
import type { Services } from '../services';

/** DELETE /<type>/{key} for every collection type: 204, or 404 naming the kind of value that was not there. */
export function deleteCollectionOperation(
  noun: string,
  storeOf: (services: Services) => { delete(key: string): Promise<boolean> },
): Operation<unknown> {
  return {
    handle: async ({ key, services }) => {
      const k = key();
      if (!(await storeOf(services).delete(k))) throw new CacheError('NOT_FOUND', `no ${noun} at key "${k}"`);
      return json(204);
    },
  };
}
