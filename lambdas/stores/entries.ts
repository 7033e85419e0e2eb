import { CounterStore } from '../domain/counters';
import { EntryStore } from '../domain/entries';
import { withScripts } from '../domain/scripts';
import type { StoreProvider } from '../services';

/*
 * The stores a handler module passes provideStores (lambdas/services.ts): one module per group of families that
 * share their Lua scripts, so a bundle imports only its own family's code and scripts.
 */

export const entryStore: StoreProvider<'entries'> = {
  name: 'entries',
  build: ({ redis, config, replicaReader }) => new EntryStore(redis, config, { replicaReader }),
  scripts: [withScripts],
};

/** Counters are entries: their increment is one of the entry scripts. */
export const counterStore: StoreProvider<'counters'> = {
  name: 'counters',
  build: ({ redis, config }) => new CounterStore(redis, config),
  scripts: [withScripts],
};
