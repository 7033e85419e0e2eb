import { Logger } from '@aws-lambda-powertools/logger';
import { serviceNameOf } from './config';

/** The Lambda invocation context as Powertools' addContext takes it. */
export type InvocationContext = Parameters<Logger['addContext']>[0];

/**
 * Powertools' Logger that puts the invocation's context (function, request id, cold start) on log lines only when a
 * line is written. Powertools' addContext picks its per-invocation store by reading the environment on every call,
 * about 2 µs per request (bench section 1, "logger context"); most requests log nothing, so a request only hands its
 * context over (`useContext`) and the first line it writes attaches it. Cold start is read at the request it belongs
 * to, so only the first invocation's lines say `cold_start: true`, whichever request logs first.
 */
export class ServiceLogger extends Logger {
  #pending: InvocationContext | undefined;
  #pendingColdStart = false;

  /** The context of the invocation now running; it goes onto the next line written. */
  useContext(context: InvocationContext): void {
    this.#pending = context;
    this.#pendingColdStart = this.getColdStart();
  }

  protected override processLogItem(...args: Parameters<Logger['processLogItem']>): void {
    const context = this.#pending;
    if (context !== undefined) {
      this.#pending = undefined;
      // addContext asks getColdStart(), which answers `coldStart` once: give it what this invocation had.
      this.coldStart = this.#pendingColdStart;
      this.addContext(context);
    }
    super.processLogItem(...args);
  }
}

/** One structured logger for every handler; level from POWERTOOLS_LOG_LEVEL / LOG_LEVEL (tests set SILENT). */
export const logger = new ServiceLogger({ serviceName: serviceNameOf() });
