// ESLint 9 flat config: typescript-eslint's type-aware recommended rules (the promise rules are the point:
// a floating promise in a queue handler is a lost error), with formatting left to Prettier
// (eslint-config-prettier turns off every rule Prettier owns). `npm run lint` runs this and `prettier --check`.
const { defineConfig, globalIgnores } = require('eslint/config');
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');
const prettier = require('eslint-config-prettier');

module.exports = defineConfig([
  globalIgnores([
    'dist/',
    'node_modules/',
    'coverage/',
    'bench/',
    '.demo/',
    '.package/',
    '.azure/',
    'docs/',
    '**/__azurite_db_*',
    '__blobstorage__/',
    '__queuestorage__/',
  ]),
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: __dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // the promise rules, stated even though recommendedTypeChecked has them: they are why lint is type-aware
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // `_`-prefixed parameters and destructured leftovers are deliberate (handler signatures, omit-by-rest)
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // the record mapper throws a plain `Reject` on purpose: no stack trace captured per rejected line of a large file
      '@typescript-eslint/only-throw-error': ['error', { allow: [{ from: 'file', name: 'Reject' }] }],
      // re-rejecting a caught value as it came (`(e) => Promise.reject(e)`) is not the bug this rule is after
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      // off: an async method with no await is how fakes, no-op sleeps and array-backed async generators meet a
      // Promise-returning interface; the rule finds no bug class here (26 hits, all of that kind)
      '@typescript-eslint/require-await': 'off',
      // off: control characters in a regex are the point where they appear (escaping stored names for the
      // terminal, refusing them in table keys)
      'no-control-regex': 'off',
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // tests read JSON.parse/require output and hand it to expect(): typing each one adds casts, catches nothing
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      // regexes over Bicep/YAML/script text match its indentation literally: '    x' reads better than ' {4}x'
      'no-regex-spaces': 'off',
    },
  },
  {
    // plain JavaScript (this file, jest.config.js, test helpers run by node): not in tsconfig, so no type information
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        exports: 'writable',
        __dirname: 'readonly',
        __filename: 'readonly',
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
]);
