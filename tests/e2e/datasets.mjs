// Browser end-to-end test of the data sets: packed real data (8x8 digits, MNIST) downloads on
// demand when chosen, trains above chance in the page, and a failed download is reported in
// words, not a crash. Writes a screenshot of the digits view.
//
//   node tests/e2e/datasets.mjs --web <build>/web --out <folder>
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { launchOptions, serveStatic } from './browser.mjs';

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const webDir = arg('--web');
const outDir = arg('--out', '.');
if (!webDir) {
  console.error('usage: datasets.mjs --web <folder with index.html> [--out <folder>]');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

function check(cond, message) {
  if (!cond) throw new Error(message);
  console.log('ok: ' + message);
}

const server = await serveStatic(webDir);
const browser = await chromium.launch(launchOptions());
const problems = [];
const downloads = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('requestfinished', (r) => downloads.push(r.url()));
  // Fashion-MNIST's pack "fails to download": the lab must say so and carry on.
  await page.route('**/data/fashion14.pdp', (route) => route.fulfill({ status: 404, body: 'gone' }));
  await page.goto(server.url, { waitUntil: 'load' });
  await page.waitForFunction(() => window.patlab && window.patlab.started, null, { timeout: 60000 });
  check(!downloads.some((u) => u.endsWith('.pdp')), 'no data pack is downloaded before one is chosen');

  const st = () => page.evaluate(() => window.patlab.status());
  const cmd = (c) => page.evaluate((c) => window.patlab.command(c), c);

  check(await cmd('dataset:digits8'), 'choosing the 8x8 digits is accepted');
  await page.waitForFunction(() => window.patlab.status().dataset === 'digits8', null, { timeout: 30000 });
  let s = await st();
  check(s.features === 64 && s.classes === 10 && s.train_size > 1400 && s.error === '',
        `the digits pack arrived: ${s.train_size} train / ${s.test_size} test, ${s.features} features`);
  check(downloads.some((u) => u.endsWith('/data/digits8.pdp')), 'it came from data/digits8.pdp');

  check(await cmd('set:steps_per_frame=20') && await cmd('train'), 'training starts');
  await page.waitForFunction(() => window.patlab.status().lanes.every((l) => l.test.device.accuracy > 0.5),
                             null, { timeout: 120000, polling: 500 });
  s = await st();
  check(true, `both methods learn the digits on the device: PAT ${s.lanes[0].test.device.accuracy}, ` +
              `in-silico ${s.lanes[1].test.device.accuracy} (chance 0.1) after ${s.step} steps`);
  await page.screenshot({ path: path.join(outDir, 'browser_digits.png') });

  check(await cmd('dataset:mnist14'), 'choosing MNIST is accepted');
  await page.waitForFunction(() => window.patlab.status().dataset === 'mnist14', null, { timeout: 30000 });
  s = await st();
  check(s.features === 196 && s.train_size === 6400, `MNIST 14x14 arrived (${s.train_size} train)`);

  check(await cmd('dataset:fashion14'), 'choosing Fashion-MNIST is accepted (its download will fail)');
  await page.waitForFunction(() => window.patlab.status().error !== '', null, { timeout: 30000 });
  s = await st();
  check(s.error.includes('fashion14') && s.dataset === 'mnist14' && s.loading === '',
        `the failed download is reported and MNIST stays: "${s.error}"`);
  check(problems.length === 0, 'no page errors' + (problems.length ? ':\n  ' + problems.join('\n  ') : ''));
} catch (e) {
  console.error('FAIL: ' + e.message);
  if (problems.length) console.error(problems.join('\n'));
  process.exitCode = 1;
} finally {
  await browser.close();
  server.close();
}
