// Flat config: typescript-eslint's recommended rules over every TypeScript source, and the import
// rules that keep the layers apart (src/core <- src/shared <- src/extension, webview -> src/shared).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NO_VSCODE = { name: 'vscode', message: 'The core, the CLI and the webview must not import vscode.' };

/** The src/core files the webview may import: pure, no Node, no DOM assumptions (paths without .ts). */
const WEBVIEW_CORE_FILES = ['types', 'attentionViews', 'attentionWindow', 'attentionGroups', 'explain/types'];

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '.vscode-test/**', 'test-results/**', 'media/**', 'tools/**/work/**', '**/.venv/**', '**/venv/**', 'wasm/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly', process: 'readonly', require: 'readonly', module: 'writable', __dirname: 'readonly',
        setTimeout: 'readonly', clearTimeout: 'readonly', setImmediate: 'readonly', setInterval: 'readonly', clearInterval: 'readonly',
        Buffer: 'readonly', URL: 'readonly', performance: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { paths: [] }],
    },
  },
  {
    // The core must stay usable from the CLI and tests: nothing in it may import vscode.
    files: ['src/shared/**/*.ts', 'src/cli/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [NO_VSCODE] }] },
  },
  {
    // The core is the bottom layer: it imports neither the protocol (src/shared) nor the extension, the CLI or vscode.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [NO_VSCODE],
          patterns: [{ regex: '^(\\.\\./)+(shared|extension|cli)(/|$)', message: 'src/core imports neither src/shared, src/extension nor src/cli (they import the core).' }],
        },
      ],
    },
  },
  {
    // The webview runs in the browser: it imports src/shared and only the pure core files named here.
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [NO_VSCODE],
          patterns: [
            { regex: '^(\\.\\./)+src/(extension|cli)(/|$)', message: 'The webview imports only src/shared and named pure core files.' },
            {
              regex: `^(\\.\\./)+src/core/(?!(${WEBVIEW_CORE_FILES.join('|')})$)`,
              message: `The webview may import only these pure core files: ${WEBVIEW_CORE_FILES.join(', ')} (eslint.config.mjs).`,
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
