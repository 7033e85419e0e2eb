import { resetRuntimeConfig } from '../../lambdas/core/config';
import { closeServices } from '../../lambdas/services';

const saved = new Map<string, string | undefined>();

/** Sets (or, with undefined, removes) environment variables and rebuilds the process-wide services from them. */
export async function setServiceEnv(vars: Record<string, string | undefined>): Promise<void> {
  for (const [k, v] of Object.entries(vars)) {
    if (!saved.has(k)) saved.set(k, process.env[k]);
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  resetRuntimeConfig();
  await closeServices();
}

/** Puts back every variable setServiceEnv changed and closes the services built from them. */
export async function restoreServiceEnv(): Promise<void> {
  for (const [k, v] of saved) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  saved.clear();
  resetRuntimeConfig();
  await closeServices();
}
