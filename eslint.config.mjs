// ESLint (type-aware, typescript-eslint) and Prettier: `npm run lint` runs both; .ci/run fails on any finding.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/** Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, activities by type only. */
const workflowImports = {
  paths: [],
  patterns: [
    { regex: '^node:', message: 'Workflow code runs in the deterministic sandbox: no Node built-ins.' },
    {
      group: ['fs', 'path', 'os', 'crypto', 'http', 'https', 'net', 'child_process', 'stream', 'util', 'events', 'timers', 'worker_threads'],
      message: 'Workflow code runs in the deterministic sandbox: no Node built-ins.',
    },
    { group: ['**/activities', '**/activities/**'], allowTypeImports: true, message: 'Workflows import activity types only (proxyActivities<typeof …>).' },
  ],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.test-logs/**', '.test-artifacts/**', 'bench/results*', 'coverage/**', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // node:test's test()/describe() return promises the runner awaits itself.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unnecessary-condition': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', destructuredArrayIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // Tests guard against their own setup failing (`after(() => system?.stop())` for a `let system: System`
    // that before() may never have set): conditions the types call unnecessary on purpose.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unnecessary-condition': 'off' },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', workflowImports] },
  },
  prettier,
);
