// ESLint with typescript-eslint's type-checked rules (as actions/typescript-action and actions/cache use);
// formatting is Prettier's (eslint-config-prettier turns off the rules that would fight it).
import js from '@eslint/js'
import prettier from 'eslint-config-prettier'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.build/', 'coverage/', '.ci/cache/', '.bench/', 'eslint.config.js', 'jest.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      // src and the tests, and the scripts (which import .ts files), each with the compiler settings they build with.
      parserOptions: { project: ['./tsconfig.test.json', './tsconfig.scripts.json'], tsconfigRootDir: import.meta.dirname }
    },
    rules: {
      // A promise nobody awaits loses its rejection: every deliberate one says why with `void`.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // A caught error is rethrown (or rejected with) as it came, whatever it is.
      '@typescript-eslint/only-throw-error': ['error', { allowThrowingUnknown: true }],
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // Kinds and backends implement async interfaces; an implementation with nothing to await is still one.
      '@typescript-eslint/require-await': 'off'
    }
  },
  {
    // Tests and scripts read reports, logs and fixtures as JSON; their shapes are what the assertions check.
    files: ['__tests__/**', 'scripts/**'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-explicit-any': 'off'
    }
  },
  prettier
)
