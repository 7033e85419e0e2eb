import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', 'coverage/', '**/*.js', '**/*.mjs', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Classic zod puts every check on the schema prototypes, so one import of it brings all of zod into a handler
    // bundle (about 65 KB); lambdas/core/zod.ts gives zod/mini with English messages.
    files: ['lambdas/**/*.ts'],
    ignores: ['lambdas/core/zod.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ regex: '^zod(/v4|/v4/classic)?$|^zod/mini$', message: "import zod from lambdas/core/zod.ts (zod/mini with English messages)" }],
        },
      ],
    },
  },
);
