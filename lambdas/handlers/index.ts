import type { RoutedHandler } from '../http/middleware';
import { handler as batch } from './batch';
import { handler as counters } from './counters';
import { handler as deleteEntry } from './delete-entry';
import { handler as entryTtl } from './entry-ttl';
import { handler as getEntry } from './get-entry';
import { handler as hashes } from './hashes';
import { handler as invalidate } from './invalidate';
import { handler as lists } from './lists';
import { handler as setEntry } from './set-entry';
import { handler as sets } from './sets';
import { handler as sortedSets } from './sorted-sets';
import { handler as stats } from './stats';
import { handler as topics } from './topics';

/**
 * Every API handler module by its name in the route table, imported statically so that one bundle (the production
 * server's) carries them all; a test holds this list to the route table's handler modules.
 */
export const apiHandlers: Readonly<Record<string, RoutedHandler>> = {
  batch,
  counters,
  'delete-entry': deleteEntry,
  'entry-ttl': entryTtl,
  'get-entry': getEntry,
  hashes,
  invalidate,
  lists,
  'set-entry': setEntry,
  sets,
  'sorted-sets': sortedSets,
  stats,
  topics,
};
