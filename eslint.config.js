// ESLint: typescript-eslint's recommended rules, and the rooms of the house (docs/architecture.md)
// enforced as import boundaries: arrows point inward, to the use cases and the domain.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** The composition root's modules (src/): nothing but the root itself imports them. */
const ROOT = ['controller.js', 'compose-flows.js', 'compose-records.js', 'compose-payments.js'];
const ROOT_ANYWHERE = ROOT.map((f) => `**/${f}`);
/** Each room and what it must not import (paths as written in import statements). */
const ADAPTERS = [
  '**/store/**',
  '**/events/**',
  '**/sms/**',
  '**/payments/**',
  '**/receipts/**',
  '**/http/**',
  '**/hardware/**',
  '**/metrics/**',
  ...ROOT_ANYWHERE,
  '**/main.js',
];
const boundaries = [
  {
    room: 'src/domain',
    files: ['src/domain/**/*.ts'],
    // Pure rules: nothing of the project outside the domain (its own files are `./x.js`).
    patterns: [{ group: ['../*', '../../*'], message: 'src/domain imports nothing of the project but the domain.' }],
  },
  {
    room: 'src/services',
    files: ['src/services/**/*.ts'],
    patterns: [
      {
        group: [...ADAPTERS, '**/config/**', '**/ui/**'],
        message: 'use cases import only the domain and their ports (src/services/ports.ts).',
      },
    ],
  },
  {
    room: 'src/ui',
    files: ['src/ui/**/*.ts'],
    // The screens run in the browser: the domain's pure rules and types, never server code.
    patterns: [
      {
        group: [
          '**/services/**',
          '**/store/**',
          '**/events/**',
          '**/sms/**',
          '**/http/**',
          '**/config/**',
          '**/hardware/**',
          ...ROOT_ANYWHERE,
        ],
        allowTypeImports: true,
        message: 'the screens import no server code: only the domain and (type-only) shared types.',
      },
      { group: ['node:*', 'fastify', 'pg', 'pino', 'mqtt', 'modbus-serial'], message: 'the screens run in a browser.' },
    ],
  },
  {
    room: 'src/store',
    files: ['src/store/**/*.ts'],
    patterns: [
      {
        group: ['**/events/**', '**/sms/**', '**/http/**', '**/hardware/**', '**/metrics/**', '**/ui/**', ...ROOT_ANYWHERE],
        message: 'the store implements ports; it does not reach other adapters.',
      },
    ],
  },
  {
    room: 'src/events, src/sms, src/payments, src/receipts',
    files: ['src/events/**/*.ts', 'src/sms/**/*.ts', 'src/payments/**/*.ts', 'src/receipts/**/*.ts'],
    patterns: [
      {
        group: ['**/store/**', '**/http/**', '**/hardware/**', '**/metrics/**', '**/ui/**', ...ROOT_ANYWHERE],
        allowTypeImports: true,
        message: 'an adapter implements ports; it does not reach other adapters.',
      },
    ],
  },
  {
    room: 'src/http',
    files: ['src/http/**/*.ts'],
    patterns: [
      {
        group: ['**/store/**', '**/events/**', '**/sms/**', '**/hardware/**', '**/metrics/**', '**/ui/**', ...ROOT_ANYWHERE],
        allowTypeImports: true,
        message: 'HTTP drives the use cases; it does not reach other adapters.',
      },
    ],
  },
  {
    room: 'src/metrics',
    files: ['src/metrics/**/*.ts'],
    // prom-client, the domain, the ports and the config's types: the figures come in through the
    // ports (observers) and the composition root, never from another adapter's internals.
    patterns: [
      {
        group: [
          '**/store/**',
          '**/events/**',
          '**/sms/**',
          '**/http/**',
          '**/hardware/**',
          '**/ui/**',
          '**/services/*.js',
          '!**/services/ports.js',
          '**/config/*.js',
          '!**/config/types.js',
          ...ROOT_ANYWHERE,
          '**/main.js',
        ],
        message: 'the metrics import only the domain, the ports (src/services/ports.ts), config types and prom-client.',
      },
    ],
  },
  {
    room: 'src/fleet',
    files: ['src/fleet/**/*.ts'],
    // The central side (issue 14) shares the domain and the topic contract; it has no locker of its
    // own, so none of the locker's adapters, use cases or composition root.
    patterns: [
      {
        group: [
          '**/store/**',
          '**/sms/**',
          '**/http/*.js',
          '**/http/routes/*.js',
          // The screens' file route serves the built dashboard: nothing of a locker in it.
          '!**/http/routes/ui.js',
          '**/hardware/**',
          '**/metrics/**',
          '**/ui/**',
          '**/services/**',
          '**/events/*.js',
          '!**/events/topics.js',
          ...ROOT_ANYWHERE,
          '**/main.js',
        ],
        message:
          "the fleet imports the domain, the topic contract (src/events/topics.ts), the configuration helpers and the screens' file route only.",
      },
    ],
  },
  {
    room: 'hardware',
    files: ['hardware/**/*.ts'],
    patterns: [
      {
        group: [
          '**/src/store/**',
          '**/src/events/**',
          '**/src/sms/**',
          '**/src/http/**',
          '**/src/metrics/**',
          '**/src/ui/**',
          ...ROOT.map((f) => `**/src/${f}`),
        ],
        message: 'the hardware room implements the LockBus port; it does not reach other adapters.',
      },
    ],
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'var/**', 'tmp/**', 'test/artifacts/**', '.tap/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      // Adapters meet untyped libraries and JSON rows; `any` is allowed where a type would lie.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-duplicate-imports': 'off',
      '@typescript-eslint/no-duplicate-type-constituents': 'off',
      'no-empty': ['error', { allowEmptyCatch: true }],
      eqeqeq: ['error', 'always'],
    },
  },
  { files: ['src/ui/**/*.ts'], languageOptions: { globals: { ...globals.browser } } },
  ...boundaries.map(({ files, patterns }) => ({
    files,
    // The screens' build script runs in Node at build time, not in the browser.
    ignores: ['src/ui/build.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] },
  })),
);
