// Browser end-to-end test: the lab loads in headless Chromium, says it is ready through its
// JavaScript hook (window.patlab), starts training when its Train button is clicked like a
// user would, and the device's test accuracy rises well above chance. Writes a screenshot.
//
//   node tests/e2e/app_trains.mjs --web <build>/web --out <folder>
import { statSync } from 'node:fs';
import path from 'node:path';
import { check, checkNoProblems, loadLab, newLabPage, runLabTest, testFolders } from './browser.mjs';

const { webDir, outDir } = testFolders('app_trains.mjs');

await runLabTest(webDir, async ({ browser, server, problems }) => {
  const page = await newLabPage(browser, problems);
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push('console error: ' + m.text());
  });
  const t0 = Date.now();
  await loadLab(page, server.url);
  const ready = await page.evaluate(() => window.patlab.status());
  console.log(`ready after ${Date.now() - t0} ms`);
  check(ready.step === 0 && ready.training === false, 'the lab starts idle at step 0');
  check(ready.race === true && ready.lanes.length === 2 && ready.lanes[0].method === 'pat' &&
        ready.lanes[1].method === 'in-silico', 'the default view races PAT against in-silico');
  check(await page.evaluate(() => window.patlab.command('no-such-command')) === false,
        'an unknown command is refused');
  check(await page.evaluate(() => window.patlab.command('knob:eta=0.3')) &&
        (await page.evaluate(() => window.patlab.status().knobs.eta)) === 0.3,
        'a knob command changes the device (eta = 0.3)');
  check(await page.evaluate(() => window.patlab.command('knob:eta=9')) === false,
        'an out-of-range knob value is refused');
  check(await page.locator('#overlay').evaluate((el) => el.classList.contains('hidden')),
        'the loading overlay is gone once the app is ready');

  // Click the Train button where the app says it drew it.
  const [x, y, w, h] = ready.ui.train_button;
  check(w > 0 && h > 0, `the Train button is on screen at (${x}, ${y})`);
  await page.mouse.click(x + w / 2, y + h / 2);
  await page.waitForFunction(() => window.patlab.status().training, null, { timeout: 10000 });
  check(true, 'clicking Train starts training');

  const t1 = Date.now();
  await page.waitForFunction(() => window.patlab.status().lanes[0].test.device.accuracy > 0.7, null,
                             { timeout: 120000, polling: 250 });
  const trained = await page.evaluate(() => window.patlab.status());
  check(trained.lanes[0].test.device.accuracy > 0.7,
        `PAT's device test accuracy ${trained.lanes[0].test.device.accuracy} (chance 0.5; ` +
        `in-silico ${trained.lanes[1].test.device.accuracy}) after ` +
        `${trained.step} steps, ${Date.now() - t1} ms, ${trained.device_queries} device queries`);

  // The space bar plays and pauses.
  await page.keyboard.press('Space');
  await page.waitForFunction(() => !window.patlab.status().training, null, { timeout: 5000 });
  check(true, 'the space bar pauses');
  await page.keyboard.press('Space');
  await page.waitForFunction(() => window.patlab.status().training, null, { timeout: 5000 });
  check(true, 'and plays again');

  const shot = path.join(outDir, 'browser.png');
  await page.screenshot({ path: shot });
  // A blank dark canvas compresses to a few kB; the drawn lab is far larger.
  const bytes = statSync(shot).size;
  check(bytes > 30000, `screenshot ${shot} holds a drawn page (${bytes} bytes)`);

  // A high-DPI screen (2 device pixels per CSS pixel): a sharp canvas at full resolution, and
  // the layout still where the app says it is (clicking Train works).
  const hidpi = await browser.newPage({ viewport: { width: 1000, height: 700 }, deviceScaleFactor: 2 });
  hidpi.on('pageerror', (e) => problems.push('page error (high-DPI): ' + e.message));
  await loadLab(hidpi, server.url);
  const canvasPixels = await hidpi.evaluate(() => [document.getElementById('canvas').width,
                                                  document.getElementById('canvas').height]);
  const hs = await hidpi.evaluate(() => window.patlab.status());
  check(hs.ui.pixel_ratio === 2 && canvasPixels[0] === 2000 && canvasPixels[1] === 1400,
        `at device pixel ratio 2 the canvas has ${canvasPixels.join('x')} pixels for 1000x700 CSS pixels`);
  const [hx, hy, hw, hh] = hs.ui.train_button;
  await hidpi.mouse.click(hx + hw / 2, hy + hh / 2);
  await hidpi.waitForFunction(() => window.patlab.status().training, null, { timeout: 10000 });
  check(true, 'the Train button is clickable where the app reports it');
  await hidpi.screenshot({ path: path.join(outDir, 'browser_hidpi.png') });

  // The window shrinks: the lab follows the canvas' size.
  await page.setViewportSize({ width: 900, height: 640 });
  await page.waitForFunction(() => document.getElementById('canvas').width === 900, null, { timeout: 10000 });
  check(true, 'a resized window resizes the canvas');
  await page.screenshot({ path: path.join(outDir, 'browser_small.png') });

  checkNoProblems(problems, 'no page or console errors');
});
