#!/usr/bin/env node
// A cheap lint with no dependencies: every module parses, every relative import resolves to a
// file that exports the imported names, and nothing loads from the network at run time.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, existsSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const problems = [];

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (['node_modules', 'test-artifacts', '.git'].includes(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

const files = walk(root);
const modules = files.filter((f) => /\.(m?js)$/.test(f));
const exportsOf = new Map();

function exported(file) {
  if (!exportsOf.has(file)) {
    const src = readFileSync(file, 'utf8');
    const names = new Set();
    for (const m of src.matchAll(/export\s+(?:async\s+)?(?:function\*?|const|let|var|class)\s+([A-Za-z_$][\w$]*)/g)) names.add(m[1]);
    for (const m of src.matchAll(/export\s*\{([^}]*)\}/g)) {
      for (const part of m[1].split(',')) {
        const n = part.trim().split(/\s+as\s+/).pop();
        if (n) names.add(n);
      }
    }
    exportsOf.set(file, names);
  }
  return exportsOf.get(file);
}

for (const file of modules) {
  const rel = relative(root, file);
  const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8' });
  if (check.status !== 0) problems.push(`${rel}: does not parse\n${check.stderr}`);
  const src = readFileSync(file, 'utf8');
  for (const m of src.matchAll(/import\s*(?:\{([^}]*)\}\s*from\s*)?['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) {
    const spec = m[2] ?? m[3];
    const target = resolve(dirname(file), spec);
    if (!existsSync(target)) {
      problems.push(`${rel}: imports ${spec}, which does not exist`);
      continue;
    }
    if (m[1]) {
      const have = exported(target);
      for (const part of m[1].split(',')) {
        const name = part.trim().split(/\s+as\s+/)[0];
        if (name && !have.has(name)) problems.push(`${rel}: imports { ${name} } from ${spec}, which does not export it`);
      }
    }
  }
}

// The console must work without the internet: no CDN links in what the browser loads.
for (const file of files.filter((f) => /\.(html|css|js)$/.test(f) && !f.includes(`${join(root, 'test')}`) && !f.includes(join(root, 'scripts')))) {
  const src = readFileSync(file, 'utf8');
  for (const m of src.matchAll(/(?:src|href)\s*=\s*["'](https?:)?\/\/[^"']+|url\(\s*["']?https?:\/\/|@import\s+["']?https?:|from\s+['"]https?:/g)) {
    problems.push(`${relative(root, file)}: loads from the network: ${m[0]}`);
  }
  if (/\bconsole\.log\(/.test(src)) problems.push(`${relative(root, file)}: leftover console.log`);
}

if (problems.length) {
  console.error(problems.join('\n'));
  console.error(`lint: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log(`lint: ${modules.length} modules ok`);
