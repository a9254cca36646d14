// Starts a real shop-api (embedded mode: SQLite, in-process stock gate and worker, WeChat Pay
// sandbox) on a free loopback port, serving this console at /admin/.
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ADMIN_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const REPO_ROOT = resolve(ADMIN_DIR, '../..');
export const ARTIFACTS = join(ADMIN_DIR, 'test-artifacts');

function binaryPath(name) {
  if (name === 'shop-api' && process.env.SHOP_API_BIN) return process.env.SHOP_API_BIN;
  const target = process.env.CARGO_TARGET_DIR ? resolve(REPO_ROOT, process.env.CARGO_TARGET_DIR) : join(REPO_ROOT, 'target');
  return join(target, 'debug', name);
}

/** The newest modification time of the server's sources (Rust, SQL, manifests). */
function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.') || ['target', 'node_modules', 'frontend', 'data', 'docs', 'tests', 'bench', 'contract-tests'].includes(e.name)) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(rs|sql|toml|lock)$/.test(e.name) && e.name !== 'tests.rs') newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  walk(REPO_ROOT);
  return newest;
}

/**
 * target/debug/<name> (shop-api, shop-admin), built with `cargo build -p <name>` when it is
 * missing or older than the sources (the build may wait for the cargo lock while others compile).
 */
export function ensureBinary(name = 'shop-api') {
  const bin = binaryPath(name);
  if (name === 'shop-api' && process.env.SHOP_API_BIN) return bin;
  const stale = existsSync(bin) && statSync(bin).mtimeMs < newestSource();
  if (existsSync(bin) && !stale) return bin;
  console.log(`[admin tests] ${stale ? 'sources changed since the last build of' : 'missing:'} ${bin}; cargo build -p ${name}`);
  const r = spawnSync('cargo', ['build', '-p', name], { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0 || !existsSync(bin)) throw new Error(`cargo build -p ${name} failed (status ${r.status})`);
  return bin;
}

export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts shop-api; resolves to {base, adminPassword, stop()}. Its log goes to
 * test-artifacts/shop-api.log.
 */
export async function startServer() {
  const bin = ensureBinary();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'wuchang-admin-e2e-'));
  const adminPassword = 'e2e-admin-password-1';
  mkdirSync(ARTIFACTS, { recursive: true });
  const logPath = join(ARTIFACTS, 'shop-api.log');
  const log = createWriteStream(logPath);
  // What the server and the shop-admin CLI share: the same database, files and sandbox.
  const shopEnv = {
    ...process.env,
    SHOP_LISTEN: `127.0.0.1:${port}`,
    SHOP_DATABASE_URL: `sqlite://${dir}/shop.db`,
    SHOP_MEDIA_DIR: join(dir, 'media'),
    SHOP_EVENTS_FILE: join(dir, 'events.jsonl'),
    SHOP_ADMIN_PASSWORD: adminPassword,
    SHOP_ADMIN_WEB_DIR: ADMIN_DIR,
    SHOP_WECHAT_BASE_URL: `http://127.0.0.1:${port}/sandbox`,
    SHOP_LOG_FORMAT: 'json',
    RUST_LOG: process.env.RUST_LOG ?? 'info',
  };
  const child = spawn(bin, [], {
    cwd: REPO_ROOT,
    env: shopEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  let exited = null;
  child.on('exit', (code, signal) => { exited = { code, signal }; });

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (exited) {
      await sleep(100);
      const tail = readFileSync(logPath, 'utf8').split('\n').slice(-20).join('\n');
      throw new Error(`shop-api exited early (${JSON.stringify(exited)}):\n${tail}`);
    }
    try {
      const r = await fetch(`${base}/readyz`);
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('shop-api did not become ready within 90 s; see test-artifacts/shop-api.log');
    }
    await sleep(100);
  }

  async function stop() {
    if (!exited) {
      child.kill('SIGTERM');
      for (let i = 0; i < 120 && !exited; i++) await sleep(100);
      if (!exited) child.kill('SIGKILL');
    }
    log.end();
    rmSync(dir, { recursive: true, force: true });
  }
  /** Runs the operators' CLI (`shop-admin …`) against this shop; resolves to its output. */
  function cli(...args) {
    const r = spawnSync(ensureBinary('shop-admin'), args, { cwd: REPO_ROOT, env: shopEnv, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`shop-admin ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  }
  return { base, port, adminPassword, stop, cli };
}
