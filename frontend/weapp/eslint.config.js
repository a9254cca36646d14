const js = require('@eslint/js');

const miniProgram = { wx: 'readonly', App: 'readonly', Page: 'readonly', Component: 'readonly', getApp: 'readonly',
  getCurrentPages: 'readonly', require: 'readonly', module: 'writable', console: 'readonly', setTimeout: 'readonly',
  setInterval: 'readonly', clearInterval: 'readonly', Promise: 'readonly' };
const node = { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', global: 'writable',
  fetch: 'readonly', URL: 'readonly', console: 'readonly', setTimeout: 'readonly', document: 'readonly' };

module.exports = [
  { ignores: ['node_modules/**'] },
  js.configs.recommended,
  {
    files: ['**/*.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'commonjs', globals: miniProgram },
    rules: { 'no-console': 'error', eqeqeq: ['error', 'always', { null: 'ignore' }], 'no-var': 'error', 'prefer-const': 'error' },
  },
  { files: ['test/**/*.js', 'eslint.config.js'], languageOptions: { globals: node } },
  { files: ['scripts/**/*.mjs'], languageOptions: { sourceType: 'module', globals: node } },
];
