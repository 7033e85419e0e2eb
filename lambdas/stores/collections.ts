import { withCollectionScripts } from '../domain/collection-scripts';
import { collectionLimits } from '../domain/collections';
import { HashStore } from '../domain/hashes';
import { ListStore } from '../domain/lists';
import { SetStore } from '../domain/sets';
import { SortedSetStore } from '../domain/sorted-sets';
import type { StoreProvider } from '../services';

// The data-structure stores (see lambdas/stores/entries.ts). Their reads go to a replica when replicas serve reads.

export const listStore: StoreProvider<'lists'> = {
  name: 'lists',
  build: ({ redis, config, replicaReader }) => new ListStore(redis, collectionLimits(config), replicaReader),
  scripts: [withCollectionScripts],
};

export const setStore: StoreProvider<'sets'> = {
  name: 'sets',
  build: ({ redis, config, replicaReader }) => new SetStore(redis, collectionLimits(config), replicaReader),
  scripts: [withCollectionScripts],
};

export const hashStore: StoreProvider<'hashes'> = {
  name: 'hashes',
  build: ({ redis, config, replicaReader }) => new HashStore(redis, collectionLimits(config), replicaReader),
  scripts: [withCollectionScripts],
};

export const sortedSetStore: StoreProvider<'sortedSets'> = {
  name: 'sortedSets',
  build: ({ redis, config, replicaReader }) => new SortedSetStore(redis, collectionLimits(config), replicaReader),
  scripts: [withCollectionScripts],
};
