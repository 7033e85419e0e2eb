/**
 * A bounded HTTP load for fault tests: a few workers call the local server in a loop and record every request's
 * start, end and status ('hung' when it outlives `hangAfterMs`), so a test can say exactly what failed and when.
 */
export interface Sample {
  op: string;
  key: string;
  start: number;
  end: number;
  status: number | 'hung' | 'network';
  body?: unknown;
}

export interface LoadRequest {
  op: string;
  key: string;
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
}

export interface Load {
  samples: Sample[];
  stop(): Promise<Sample[]>;
}

export function startLoad(
  baseUrl: string,
  next: (worker: number, i: number) => LoadRequest,
  options: { workers?: number; hangAfterMs: number; pauseMs?: number },
): Load {
  const samples: Sample[] = [];
  let running = true;
  const worker = async (w: number) => {
    for (let i = 0; running; i++) {
      const r = next(w, i);
      const start = Date.now();
      let status: Sample['status'];
      let body: unknown;
      try {
        const res = await fetch(baseUrl + r.path, {
          method: r.method,
          headers: r.body === undefined ? {} : { 'content-type': 'application/json' },
          body: r.body === undefined ? undefined : JSON.stringify(r.body),
          signal: AbortSignal.timeout(options.hangAfterMs),
        });
        status = res.status;
        body = await res.json().catch(() => undefined);
      } catch (e) {
        status = (e as Error).name === 'TimeoutError' ? 'hung' : 'network';
      }
      samples.push({ op: r.op, key: r.key, start, end: Date.now(), status, body });
      if (options.pauseMs) await new Promise((res) => setTimeout(res, options.pauseMs));
    }
  };
  const done = Promise.all(Array.from({ length: options.workers ?? 4 }, (_, w) => worker(w)));
  return {
    samples,
    stop: async () => {
      running = false;
      await done;
      return samples;
    },
  };
}

export const isOk = (s: Sample) => typeof s.status === 'number' && s.status < 500;

/** Requests that ended in [from, to], by status, and one printed line saying so. */
export function summarize(label: string, samples: Sample[], from = 0, to = Infinity): Record<string, number> {
  const inWindow = samples.filter((s) => s.end >= from && s.start <= to);
  const byStatus: Record<string, number> = {};
  for (const s of inWindow) byStatus[String(s.status)] = (byStatus[String(s.status)] ?? 0) + 1;
  const failed = inWindow.filter((s) => !isOk(s)).length;
  const slowest = inWindow.reduce((m, s) => Math.max(m, s.end - s.start), 0);
  console.log(
    `[fault] ${label}: ${inWindow.length} requests, ${failed} failed; by status ${JSON.stringify(byStatus)}; ` +
      `slowest ${slowest} ms`,
  );
  return byStatus;
}

export async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return Date.now();
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
