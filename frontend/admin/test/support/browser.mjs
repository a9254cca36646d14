// Debian's chromium driven by playwright-core, kept off the network: everything but the
// loopback test server goes to a dead proxy, and background services are off.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib/chromium/chromium'];

export function chromiumPath() {
  const p = process.env.CHROMIUM_PATH ?? CANDIDATES.find((c) => existsSync(c));
  if (!p || !existsSync(p)) {
    throw new Error(
      'Debian chromium is not installed, so the browser tests cannot run.\n' +
        '  Install it:  sudo apt-get install -y --no-install-recommends chromium\n' +
        '  (npm test runs scripts/ensure-chromium.sh first, which does this when run as root),\n' +
        '  or set CHROMIUM_PATH to a Chromium binary.',
    );
  }
  return p;
}

export async function launch() {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    env: { ...process.env, LANGUAGE: 'zh_CN', LANG: 'zh_CN.UTF-8' },
    args: [
      '--no-sandbox',
      '--lang=zh-CN',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-default-apps',
      '--disable-domain-reliability',
      '--disable-sync',
      '--disable-extensions',
      '--no-first-run',
      '--no-default-browser-check',
      '--metrics-recording-only',
      '--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,CertificateTransparencyComponentUpdater',
      '--proxy-server=http://127.0.0.1:9',
      '--proxy-bypass-list=127.0.0.1',
    ],
  });
}
