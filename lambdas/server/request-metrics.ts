import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { ENV } from '../core/config';

/** Latency values kept per interval: Powertools flushes a metric at 100 values, CloudWatch takes 100 per metric. */
const LATENCY_SAMPLE_SIZE = 99;

/**
 * The request metrics API Gateway publishes for the Lambda front (`Count`, `4XXError`, `5XXError`, `Latency`), so
 * dashboards and alarms read the same names on either front. A worker counts in memory and publishes one embedded
 * metric format (EMF) line per interval — CloudWatch Logs turns it into metrics — instead of a line per request.
 * Latency is a uniform sample of the interval's requests (reservoir sampling), from which CloudWatch computes
 * percentiles.
 */
export class RequestMetrics {
  private count = 0;
  private clientErrors = 0;
  private serverErrors = 0;
  private rejected = 0;
  private readonly latencies: number[] = [];
  private timer?: NodeJS.Timeout;

  constructor(private readonly metrics: Metrics = new Metrics({
      namespace: process.env[ENV.metricsNamespace] ?? 'skycache',
      serviceName: process.env[ENV.serviceName] ?? 'skycache',
    })) {}

  record(status: number, latencyMs: number): void {
    const n = ++this.count;
    if (status >= 500) this.serverErrors++;
    else if (status >= 400) this.clientErrors++;
    if (n <= LATENCY_SAMPLE_SIZE) this.latencies.push(latencyMs);
    else {
      const slot = Math.floor(Math.random() * n);
      if (slot < LATENCY_SAMPLE_SIZE) this.latencies[slot] = latencyMs;
    }
  }

  /** A request refused at the in-flight bound (also counted as a 5XXError by `record`). */
  recordRejected(): void {
    this.rejected++;
  }

  /** Publishes what was counted since the last call, if anything. */
  publish(): void {
    if (this.count === 0) return;
    const m = this.metrics;
    m.addMetric('Count', MetricUnit.Count, this.count);
    m.addMetric('4XXError', MetricUnit.Count, this.clientErrors);
    m.addMetric('5XXError', MetricUnit.Count, this.serverErrors);
    m.addMetric('InFlightRejected', MetricUnit.Count, this.rejected);
    for (const l of this.latencies) m.addMetric('Latency', MetricUnit.Milliseconds, Math.round(l * 1000) / 1000);
    m.publishStoredMetrics();
    this.count = this.clientErrors = this.serverErrors = this.rejected = 0;
    this.latencies.length = 0;
  }

  /** Publishes every `intervalMs` until `stop()`; the timer never keeps the process alive. */
  start(intervalMs: number): void {
    this.timer = setInterval(() => this.publish(), intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and publishes what is left (shutdown). */
  stop(): void {
    clearInterval(this.timer);
    this.publish();
  }
}
