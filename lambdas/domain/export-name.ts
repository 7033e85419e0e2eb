/**
 * How exported snapshots are named, and how a restore reads a name back. ElastiCache writes one object per shard,
 * `<export name>-0001.rdb`, `-0002.rdb`, …; the export name records the source's engine, major-minor version and
 * shard count, so a restore can check that the files fit the group they seed (lib/config.ts) before anything is
 * deployed.
 */

export interface ExportSource {
  /** The snapshot's name (ElastiCache's for automatic snapshots). */
  readonly snapshotName: string;
  readonly engine?: string;
  /** e.g. `8.0.1`; only major and minor are kept. */
  readonly engineVersion?: string;
  /** Shards (node groups) of the snapshotted replication group. */
  readonly shards?: number;
}

/**
 * The export's name, derived from the source snapshot only — so a retry of the same day asks for the same name and
 * ElastiCache refuses to write it twice: `<prefix>-<engine>-<major>-<minor>-shards-<n>-<snapshot name>`. Lowercase
 * letters, digits and hyphens (ElastiCache stores the name lowercased), at most 255 characters.
 */
export function exportName(prefix: string, source: ExportSource): string {
  const [major, minor] = (source.engineVersion ?? '').split('.');
  const engine = source.engine && major && minor ? `${source.engine}-${major}-${minor}` : '';
  const shards = source.shards ? `shards-${source.shards}` : '';
  return [prefix, engine, shards, source.snapshotName]
    .filter(Boolean)
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/-+/g, '-')
    .slice(0, 255);
}

/** What an exported object's key says about its export. */
export interface ExportFile {
  /** The export name: the key without `-<shard>.rdb`. */
  readonly exportName: string;
  /** 1-based: ElastiCache's `-0001.rdb` suffix. */
  readonly shard: number;
  readonly engine?: string;
  readonly major?: number;
  readonly minor?: number;
  /** Shards of the exported replication group, when the name records it. */
  readonly shards?: number;
}

const EXPORTED_KEY = /^(?<name>.+)-(?<shard>\d{4})\.rdb$/;
const SOURCE_TAG = /-(?<engine>valkey|redis)-(?<major>\d+)-(?<minor>\d+)-shards-(?<shards>\d+)-/;

/** Reads an S3 object key written by an export; undefined for a key that is not `<name>-<nnnn>.rdb`. */
export function parseExportFile(key: string): ExportFile | undefined {
  const file = EXPORTED_KEY.exec(key.slice(key.lastIndexOf('/') + 1))?.groups;
  if (!file) return undefined;
  const tag = SOURCE_TAG.exec(`${file.name}-`)?.groups;
  return {
    exportName: key.slice(0, key.length - `-${file.shard}.rdb`.length),
    shard: Number(file.shard),
    ...(tag ? { engine: tag.engine, major: Number(tag.major), minor: Number(tag.minor), shards: Number(tag.shards) } : {}),
  };
}
