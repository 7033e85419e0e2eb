import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** CPU time of processes from Linux's /proc: figures the machine's other load barely moves. */

let clockTicks: number | undefined;
/** CPU time of a process so far in seconds (user + system, every thread), from /proc; undefined off Linux. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return undefined;
  }
}

/** CPU seconds of a process and its direct children (the server's primary and its workers). */
export function treeCpuSeconds(pid: number | undefined): number | undefined {
  const own = cpuSeconds(pid);
  if (own === undefined) return undefined;
  let children = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 (ppid) is the second after the command name.
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) children += cpuSeconds(Number(entry)) ?? 0;
    } catch {
      // the process ended meanwhile
    }
  }
  return own + children;
}

/**
 * Time a process's threads have run on a CPU so far, in nanoseconds (the scheduler's own account,
 * /proc/<pid>/task/<tid>/schedstat): unlike /proc/<pid>/stat's clock ticks (10 ms), fine enough to read around a
 * few hundred requests. Undefined when the kernel does not keep it.
 */
export function onCpuNanos(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    let total = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // the thread ended meanwhile
      }
    }
    return total;
  } catch {
    return undefined;
  }
}

/**
 * Runs `work` with this process and `otherPid` pinned to different CPUs (every thread, `taskset -a`), then lets both
 * run anywhere again. Returns whether they were pinned (not without taskset or on one CPU). Used where a sequential
 * client and its Redis ping-pong: on a 2-core machine the scheduler sometimes runs both on one core, where a
 * loopback round trip skips the other core's wake-up and takes about 20 µs instead of 33, and sometimes not, so
 * ratios against it came out in two modes from run to run. Client and Redis on different CPUs is also the deployed
 * case (Lambda and ElastiCache never share one).
 */
export async function onSeparateCpus<T>(otherPid: number | undefined, work: (pinned: boolean) => Promise<T>): Promise<T> {
  // The CPUs this process may run on (its affinity), as nproc counts them.
  const cpus = availableParallelism();
  const pin = (pid: number, list: string) => execFileSync('taskset', ['-a', '-p', '-c', list, String(pid)], { stdio: 'ignore' });
  let pinned = false;
  if (otherPid && cpus >= 2) {
    try {
      pin(process.pid, '0');
      pin(otherPid, '1');
      pinned = true;
    } catch {
      pinned = false;
    }
  }
  try {
    return await work(pinned);
  } finally {
    if (pinned) {
      for (const pid of [process.pid, otherPid!]) {
        try {
          pin(pid, `0-${cpus - 1}`);
        } catch {
          // the process ended meanwhile
        }
      }
    }
  }
}
