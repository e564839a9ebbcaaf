// Benchmark of the browser lab in headless Chromium (reported, not a test: this machine is
// shared and noisy). Measures:
//   - load: navigation start to the lab being interactive (window.patlab.started)
//   - frames per second: idle, while training the default race, while training MNIST, while
//     computing a robustness map (requestAnimationFrame callbacks counted over 3 s)
//   - the compressed download: gzip -9 of every file the page fetches at start, and of the
//     data packs fetched on demand (already gzip-compressed)
//
//   node bench/web_perf.mjs --web <build>/web [--json out.json]
import { chromium } from 'playwright-core';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { arg, launchOptions, serveStatic } from '../tests/e2e/browser.mjs';

const webDir = arg('--web');
if (!webDir) {
  console.error('usage: web_perf.mjs --web <build>/web [--json out.json]');
  process.exit(2);
}

const result = { download: {}, fps: {} };
let startBytes = 0;
for (const f of ['index.html', 'page.js', 'style.css', 'patlab.js', 'patlab.wasm']) {
  const gz = gzipSync(readFileSync(path.join(webDir, f)), { level: 9 }).length;
  result.download[f] = gz;
  startBytes += gz;
}
let packBytes = 0;
for (const f of readdirSync(path.join(webDir, 'data')).filter((f) => f.endsWith('.pdp'))) {
  const n = readFileSync(path.join(webDir, 'data', f)).length;
  result.download['data/' + f] = n;
  packBytes += n;
}
result.download.at_start = startBytes;
result.download.with_every_pack = startBytes + packBytes;

const server = await serveStatic(webDir);
const browser = await chromium.launch(launchOptions());
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const t0 = Date.now();
  await page.goto(server.url, { waitUntil: 'commit' });
  await page.waitForFunction(() => window.patlab && window.patlab.started, null, { timeout: 60000, polling: 20 });
  result.load_ms = Date.now() - t0;

  const fps = () => page.evaluate(() => new Promise((resolve) => {
    let n = 0;
    const t = performance.now();
    const tick = () => { n++; if (performance.now() - t < 3000) requestAnimationFrame(tick); else resolve(n / 3); };
    requestAnimationFrame(tick);
  }));
  const cmd = (c) => page.evaluate((c) => window.patlab.command(c), c);
  const steps = () => page.evaluate(() => window.patlab.status().step);

  result.fps.idle = await fps();
  await cmd('train');
  let s0 = await steps();
  result.fps.training_race = await fps();
  result.steps_per_s_race = (await steps() - s0) / 3;
  await cmd('pause');
  await cmd('dataset:mnist14');
  await page.waitForFunction(() => window.patlab.status().dataset === 'mnist14', null, { timeout: 30000 });
  await cmd('train');
  s0 = await steps();
  result.fps.training_mnist = await fps();
  result.steps_per_s_mnist = (await steps() - s0) / 3;
  await cmd('pause');
  await cmd('dataset:circles');
  await cmd('view:robustness');
  await cmd('robustness:start');
  result.fps.robustness_map = await fps();
  await cmd('robustness:stop');
} finally {
  await browser.close();
  server.close();
}
console.log(JSON.stringify(result, null, 2));
const out = arg('--json');
if (out) writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
