import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { hitCountKeys } from '../core/keyspace';
import type { HitSinkName } from '../core/config';
import type { RedisClient } from '../core/redis';
import {
  countField,
  emptyCounts,
  FAMILY_DIMENSION,
  HITS_METRIC,
  METRICS_NAMESPACE,
  MISSES_METRIC,
  ROUTE_FAMILIES,
  SERVICE_NAME,
  type HitCounts,
  type RouteFamily,
} from './names';

/**
 * Where a process publishes the hits and misses it counted (HIT_COUNTS, lambdas/shared/config.ts):
 * - `metrics`: CloudWatch metrics through Powertools Metrics (EMF log lines), once a minute per process — one line
 *   per route family that saw reads, whatever the request rate;
 * - `redis`: HINCRBYs in one MULTI on one of a handful of hashes, at most once a second per process (exact counts
 *   that GET /cache/stats sums; the local server's default).
 */
export interface HitSink {
  readonly name: HitSinkName;
  /** Shortest time between two publications. */
  readonly intervalMs: number;
  publish(counts: HitCounts): Promise<void>;
}

const SLOTS = ROUTE_FAMILIES.length * 2;
const FAMILY_INDEX = new Map<RouteFamily, number>(ROUTE_FAMILIES.map((f, i) => [f, i]));

function toCounts(flat: Float64Array): HitCounts {
  const counts = emptyCounts();
  ROUTE_FAMILIES.forEach((f, i) => {
    counts[f].hits = flat[2 * i];
    counts[f].misses = flat[2 * i + 1];
  });
  return counts;
}

/** One sink's counts not yet published, the ones being published, and its timer. */
class SinkState {
  pending = new Float64Array(SLOTS);
  inFlight = new Float64Array(SLOTS);
  nonEmpty = false;
  lastStart = -Infinity;
  timer?: NodeJS.Timeout;
  flushing?: Promise<void>;
  constructor(readonly sink: HitSink) {}
}

/**
 * Hits and misses counted in this process's memory, per route family, and published in bulk by each sink on its own
 * timer — never on a request's path: recording is two array increments. The timer is unref'd (it never keeps a
 * process alive); in Lambda it fires when the instance next runs (a frozen instance runs no timers).
 *
 * What an instance that ends before its next publication loses: the counts it made since its last one, at most
 * one interval of its own reads (a minute for `metrics`, a second for `redis`) — plus, for an instance frozen
 * between invocations and then shut down, the reads of its last invocations before the freeze.
 */
export class HitCounter {
  private readonly states: SinkState[];

  constructor(sinks: readonly HitSink[], private readonly now: () => number = Date.now) {
    this.states = sinks.map((s) => new SinkState(s));
  }

  get sinks(): HitSinkName[] {
    return this.states.map((s) => s.sink.name);
  }

  /** Counts one read (or a batch's worth) of a route family. */
  record(family: RouteFamily, hits: number, misses = 0): void {
    if (hits === 0 && misses === 0) return;
    const at = 2 * FAMILY_INDEX.get(family)!;
    for (const state of this.states) {
      state.pending[at] += hits;
      state.pending[at + 1] += misses;
      state.nonEmpty = true;
      if (!state.timer && !state.flushing) this.arm(state);
    }
  }

  /** Counted here but not yet acknowledged by the sink: what a stats read of that sink must add for this process. */
  unpublished(name: HitSinkName): HitCounts {
    const state = this.states.find((s) => s.sink.name === name);
    const flat = new Float64Array(SLOTS);
    if (state) for (let i = 0; i < SLOTS; i++) flat[i] = state.pending[i] + state.inFlight[i];
    return toCounts(flat);
  }

  /**
   * Publishes everything pending now, whatever the interval (shutdown and tests), after the flush under way: one
   * that got no answer holds the next, so a caller that cannot wait bounds this (closeServices does).
   */
  async flushAll(): Promise<void> {
    for (const state of this.states) {
      clearTimeout(state.timer);
      state.timer = undefined;
      await state.flushing;
      await this.flush(state);
    }
  }

  /** Stops the timers; counts not yet published are dropped (tests that rebuild the services). */
  stop(): void {
    for (const state of this.states) {
      clearTimeout(state.timer);
      state.timer = undefined;
      state.pending.fill(0);
      state.nonEmpty = false;
    }
  }

  private arm(state: SinkState): void {
    const wait = Math.max(0, state.lastStart + state.sink.intervalMs - this.now());
    state.timer = setTimeout(() => {
      state.timer = undefined;
      void this.flush(state);
    }, wait);
    state.timer.unref();
  }

  private flush(state: SinkState): Promise<void> {
    if (!state.nonEmpty) return Promise.resolve();
    state.lastStart = this.now();
    const batch = state.pending;
    state.pending = new Float64Array(SLOTS);
    state.nonEmpty = false;
    state.inFlight = batch;
    const done = state.sink.publish(toCounts(batch)).then(
      () => undefined,
      () => {
        // Not published (e.g. Redis unreachable): the counts go back for the next try.
        for (let i = 0; i < SLOTS; i++) state.pending[i] += batch[i];
        state.nonEmpty = true;
      },
    );
    state.flushing = done.finally(() => {
      state.inFlight = new Float64Array(SLOTS);
      state.flushing = undefined;
      if (state.nonEmpty && !state.timer) this.arm(state);
    });
    return state.flushing;
  }
}

/**
 * Exact counts in Redis: one MULTI of HINCRBYs on this process's hash (one of a handful, picked at random when the
 * process starts, so the processes' flushes spread over them and, in a cluster, over the shards), once a second
 * at most. A MULTI is all or nothing, so a failed flush is retried whole by the next one; only a reply lost after
 * Redis applied it (a timeout) can count a second time.
 */
export class RedisHitSink implements HitSink {
  readonly name = 'redis';
  readonly key: string;

  constructor(
    private readonly redis: () => RedisClient,
    readonly intervalMs = 1000,
    keyIndex = Math.floor(Math.random() * hitCountKeys().length),
  ) {
    this.key = hitCountKeys()[keyIndex];
  }

  async publish(counts: HitCounts): Promise<void> {
    const tx = this.redis().multi();
    for (const family of ROUTE_FAMILIES) {
      const { hits, misses } = counts[family];
      if (hits) tx.hincrby(this.key, countField(family, 'hits'), hits);
      if (misses) tx.hincrby(this.key, countField(family, 'misses'), misses);
    }
    // No timeout here: a MULTI that got no answer may still run when Redis answers again, so the next flush waits
    // for this one's answer (or its connection's end) instead of sending the counts a second time.
    const replies = await tx.exec();
    const failed = replies?.find(([error]) => error);
    if (!replies || failed) throw failed?.[0] ?? new Error('the hit-count transaction was discarded');
  }
}

/**
 * CloudWatch metrics through Powertools Metrics: per flush, one EMF line per route family that saw reads, with
 * `Hits` and `Misses` under two dimension sets — [service, RouteFamily] and [service] — so both the per-family
 * figures and the service's total are metrics CloudWatch sums over every instance, with no math at read time.
 */
export class EmfHitSink implements HitSink {
  readonly name = 'metrics';
  private readonly metrics: Metrics;

  constructor(
    readonly intervalMs = 60_000,
    metrics?: Metrics,
  ) {
    this.metrics = metrics ?? new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
  }

  async publish(counts: HitCounts): Promise<void> {
    for (const family of ROUTE_FAMILIES) {
      const { hits, misses } = counts[family];
      if (!hits && !misses) continue;
      this.metrics.addDimension(FAMILY_DIMENSION, family);
      this.metrics.addDimensions({});
      this.metrics.addMetric(HITS_METRIC, MetricUnit.Count, hits);
      this.metrics.addMetric(MISSES_METRIC, MetricUnit.Count, misses);
      this.metrics.publishStoredMetrics();
    }
  }
}

/** A counter publishing to the named sinks, Redis through the process's primary client. */
export function hitCounterFor(sinks: readonly HitSinkName[], redis: () => RedisClient): HitCounter {
  return new HitCounter(sinks.map((name): HitSink => (name === 'redis' ? new RedisHitSink(redis) : new EmfHitSink())));
}
