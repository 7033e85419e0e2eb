import { config } from 'zod/mini';
import { en } from 'zod/locales';

/**
 * zod's `zod/mini` API, the one every schema under lambdas/ is written with: its checks are functions
 * (`s.check(z.minLength(1))`, `z.optional(s)`), so esbuild bundles only those a handler uses, where classic zod's
 * methods live on the schema prototypes and keep all of zod (about 70 KB more in every handler bundle).
 *
 * zod/mini loads no locale, so a check without its own message would say only "Invalid input"; English (about 3 KB)
 * keeps the messages classic zod gives ("Too small: expected number to be >=1", "expected object, received string").
 */
config(en());

export * from 'zod/mini';
