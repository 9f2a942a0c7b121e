// One lint for every JS/TS file of the project: typescript-eslint's strict type-checked rules, Prettier for layout.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/out/**',
      '.cache/**',
      '**/.cloudsmith/**',
      // Fixtures are the apps the tests deploy (run by the platform, some deliberately broken), not project code.
      'backend/test/**/fixtures/**',
      // Tenants' code the hostile suite deploys, not the platform's.
      'backend/test/hostile/fixtures/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        projectService: { allowDefaultProject: ['*.mjs', '*/*.mjs', 'scripts/*.js', 'backend/bin/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // Template literals with numbers are how every log line here is written.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // Port methods are async by contract even when an adapter has nothing to await.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // CommonJS modules: require() is how they import (the no-require-imports rule is about TS/ESM sources).
    files: ['**/*.cjs', 'backend/runtime-assets/*.js', 'backend/bin/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.test.cjs'],
    languageOptions: { globals: { ...globals.mocha } },
  },
  {
    // The webview runs in the browser and has its own tsconfig (DOM lib), not the extension's.
    files: ['extension/src/webview/main.ts'],
    languageOptions: {
      globals: { ...globals.browser },
      parserOptions: { projectService: false, project: ['extension/tsconfig.webview.json'] },
    },
  },
);
