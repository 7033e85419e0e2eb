/**
 * Stands in for ioredis's built/himport/HimportCoordinator (6 KB minified) in the bundles (lib/bundling.ts). ioredis
 * coordinates HIMPORT fieldsets only when given `himportFieldsets`, which lambdas/core/redis.ts never sets: with
 * none, ioredis binds no coordinator, and each function below answers as the original does for a connection without
 * one. Giving fieldsets throws, as does anything that would bind a coordinator.
 */
import { unbundled } from './unbundled';

const unavailable = () => unbundled('ioredis HIMPORT');

export const hasHimportCoordinator = Symbol('hasHimportCoordinator');

export default class HimportCoordinator {
  constructor() {
    unavailable();
  }
}

export function cloneHimportFieldsets(fieldsets: unknown): undefined {
  if (fieldsets !== undefined) unavailable();
  return undefined;
}

export function bindHimportCoordinator(): never {
  return unavailable();
}

export const getHimportBinding = (): undefined => undefined;
export const interceptHimportCommand = (): boolean => false;
export const interceptHimportPipeline = (): boolean => false;
export const setHimportRole = (): void => undefined;
export const unbindHimportCoordinator = (): void => undefined;
export const isInternalHimportCommand = (): boolean => false;
/** ioredis asks this of every command a cluster sends: only an HIMPORT would need the coordinator. */
export function isHimportControlCommand(command: { name: string }): boolean {
  if (command.name.toLowerCase() === 'himport') unavailable();
  return false;
}
export const interceptHimportControlCommand = (): boolean => false;
