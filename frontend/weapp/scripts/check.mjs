// Static checks of the mini-program, run by `npm test` before the tests:
// 1. every WXML and WXSS compiled with WeChat's own compilers (wcc / wcsc, shipped in
//    miniprogram-compiler) — a syntax error fails here as it would in DevTools;
// 2. app.json names only pages that exist, and each page has its four files;
// 3. ESLint; 4. TypeScript over the JS (JSDoc) against miniprogram-api-typings.
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { wxmlToJs, wxssToJs } = require('miniprogram-compiler');
let failed = false;
const fail = (msg) => { failed = true; process.stderr.write(`✗ ${msg}\n`); };

const app = JSON.parse(fs.readFileSync(path.join(root, 'app.json'), 'utf8'));
for (const p of app.pages) {
  for (const ext of ['js', 'json', 'wxml', 'wxss']) {
    if (!fs.existsSync(path.join(root, `${p}.${ext}`))) fail(`${p}.${ext} missing (named in app.json)`);
  }
}
for (const t of app.tabBar.list) if (!app.pages.includes(t.pagePath)) fail(`tabBar page ${t.pagePath} not in pages`);

try {
  const out = wxmlToJs(root, app.pages.slice(), []);
  if (!out.includes('$gwx')) fail('wcc produced no code');
  process.stdout.write(`✓ ${app.pages.length} WXML pages compiled with wcc\n`);
} catch (e) {
  fail(String(e.message || e));
}
const wxss = wxssToJs(root, ['app'].concat(app.pages));
if (wxss instanceof Error) fail(wxss.message);
else process.stdout.write(`✓ ${app.pages.length + 1} WXSS files compiled with wcsc\n`);

const bin = (name) => path.join(root, 'node_modules', '.bin', name);
try {
  execFileSync(bin('eslint'), ['--max-warnings=0', '.'], { cwd: root, stdio: 'inherit' });
  process.stdout.write('✓ eslint\n');
} catch { fail('eslint'); }
try {
  execFileSync(bin('tsc'), ['-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
  process.stdout.write('✓ tsc --checkJs against miniprogram-api-typings\n');
} catch { fail('tsc'); }

if (failed) process.exit(1);
