// Browser end-to-end test of the data sets: packed real data (8x8 digits, MNIST) downloads on
// demand when chosen, trains above chance in the page, and a failed download is reported in
// words, not a crash. Writes a screenshot of the digits view.
//
//   node tests/e2e/datasets.mjs --web <build>/web --out <folder>
import path from 'node:path';
import { check, checkNoProblems, loadLab, newLabPage, runLabTest, testFolders } from './browser.mjs';

const { webDir, outDir } = testFolders('datasets.mjs');

await runLabTest(webDir, async ({ browser, server, problems }) => {
  const downloads = [];
  const page = await newLabPage(browser, problems);
  page.on('requestfinished', (r) => downloads.push(r.url()));
  // Fashion-MNIST's pack "fails to download": the lab must say so and carry on.
  await page.route('**/data/fashion14.pdp', (route) => route.fulfill({ status: 404, body: 'gone' }));
  await loadLab(page, server.url);
  check(!downloads.some((u) => u.endsWith('.pdp')), 'no data pack is downloaded before one is chosen');

  const st = () => page.evaluate(() => window.patlab.status());
  const cmd = (c) => page.evaluate((c) => window.patlab.command(c), c);

  // Drawing: in the Data view a click adds a point of the chosen class where the user clicked.
  check(await cmd('view:data'), 'the data view');
  await page.waitForFunction(() => window.patlab.status().ui.scatter[2] > 0, null, { timeout: 10000 });
  let s0 = await st();
  const [sx, sy, sw, sh] = s0.ui.scatter;
  const points = s0.train_size + s0.test_size;
  await page.mouse.click(sx + sw * 0.75, sy + sh * 0.25);  // data (1, 1)
  await page.waitForFunction((n) => window.patlab.status().train_size + window.patlab.status().test_size === n + 1,
                             points, { timeout: 10000 });
  s0 = await st();
  check(s0.dataset === 'drawn', `a click on the drawing area adds a point (${points} -> ${points + 1})`);
  await page.mouse.click(sx + sw * 0.75, sy + sh * 0.25, { button: 'right' });
  await page.waitForFunction((n) => window.patlab.status().train_size + window.patlab.status().test_size === n,
                             points, { timeout: 10000 });
  check(true, 'a right-click there removes it again');
  await page.screenshot({ path: path.join(outDir, 'browser_data.png') });

  // A CSV of the user's own, dropped on the page.
  const csv = 'width,height,kind\n' + Array.from({ length: 80 }, (_, i) =>
    `${(i % 2 ? 3 : 1) + (i % 5) * 0.1},${10 + (i % 7)},${i % 2 ? 'wide' : 'narrow'}`).join('\n') + '\n';
  await page.evaluate((text) => {
    const dt = new DataTransfer();
    dt.items.add(new File([text], 'shapes.csv', { type: 'text/csv' }));
    window.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, csv);
  await page.waitForFunction(() => window.patlab.status().dataset === 'csv', null, { timeout: 10000 });
  s0 = await st();
  check(s0.classes === 2 && s0.features === 2 && s0.train_size + s0.test_size === 80,
        `a dropped CSV becomes the data set (${s0.train_size} train / ${s0.test_size} test, label column "kind")`);
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['a,label\n1,x\nnot-a-number,y\n'], 'bad.csv', { type: 'text/csv' }));
    window.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await page.waitForFunction(() => window.patlab.status().error.includes('bad.csv'), null, { timeout: 10000 });
  s0 = await st();
  check(s0.error.includes('line 3') && s0.dataset === 'csv', `a bad CSV is explained and the data stays: "${s0.error}"`);
  check(await cmd('view:race'), 'back to the race');

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
  await page.waitForTimeout(300);
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
  checkNoProblems(problems, 'no page errors');
});
