// Browser end-to-end test of racing and sharing: at high twin mismatch PAT beats in-silico on
// the device (read through window.patlab); the setup round-trips through the address bar and
// survives a reload; the export buttons' files download; an exported experiment opens through
// the file picker. Saves a screenshot of each view it visits.
//
//   node tests/e2e/lab_share.mjs --web <build>/web --out <folder>
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { check, checkNoProblems, loadLab, runLabTest, testFolders } from './browser.mjs';

const { webDir, outDir } = testFolders('lab_share.mjs');

await runLabTest(webDir, async ({ browser, server, problems }) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const open = async (query) => {
    const page = await context.newPage();
    page.on('pageerror', (e) => problems.push('page error: ' + e.message));
    await loadLab(page, server.url + (query ? '?' + query : ''));
    return page;
  };
  const st = (page) => page.evaluate(() => window.patlab.status());
  const cmd = (page, c) => page.evaluate((c) => window.patlab.command(c), c);

  // 1. A link sets the lab up: the most mismatched oscillators there are, moons, a race.
  const link = 'data=moons&methods=pat,in-silico&knob.eta=0.5&knob.coupling_noise=0.3&steps_per_frame=10';
  const page = await open(link);
  let s = await st(page);
  check(s.dataset === 'moons' && s.knobs.eta === 0.5 && s.knobs.coupling_noise === 0.3 &&
        s.methods.join() === 'pat,in-silico', 'a link sets data, knobs and methods');

  // 2. The race: PAT beats in-silico on the device.
  check(await cmd(page, 'train'), 'training starts');
  await page.waitForFunction(() => window.patlab.status().step >= 300, null, { timeout: 180000, polling: 500 });
  await cmd(page, 'pause');
  s = await st(page);
  const [pat, insilico] = [s.lanes[0].test.device.accuracy, s.lanes[1].test.device.accuracy];
  check(pat > insilico + 0.1,
        `at high mismatch PAT beats in-silico on the device: ${pat} vs ${insilico} after ${s.step} steps`);
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(outDir, 'browser_race_high_mismatch.png') });

  // Each main view, for review (the race was saved above).
  check(await cmd(page, 'view:slow') && await cmd(page, 'phase') && await cmd(page, 'phase'),
        'PAT in slow motion, phases 1 and 2');
  s = await st(page);
  check(s.slow_motion.phase === 2 && s.slow_motion.cos_pat.length === 2,
        `the gradients compared: PAT cos ${s.slow_motion.cos_pat.map((c) => c.toFixed(2))}, ` +
        `in-silico cos ${s.slow_motion.cos_insilico.map((c) => c.toFixed(2))} with the true gradient`);
  await page.waitForTimeout(700);  // the next redraw
  await page.screenshot({ path: path.join(outDir, 'browser_slow_motion.png') });
  check(await cmd(page, 'view:inside'), 'the "inside the training" view');
  await page.waitForTimeout(700);
  await page.screenshot({ path: path.join(outDir, 'browser_inside.png') });
  check(await cmd(page, 'view:explorer'), 'the device explorer');
  await page.waitForFunction(() => window.patlab.status().explorer.points > 0, null, { timeout: 10000 });
  s = await st(page);
  check(s.explorer.rms_residual > 0.001, `at eta 0.5 the device departs from its twin (rms residual ${s.explorer.rms_residual.toFixed(4)})`);
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(outDir, 'browser_explorer.png') });
  check(await cmd(page, 'view:robustness') && await cmd(page, 'robustness:start=30'), 'a quick robustness map starts');
  await page.waitForFunction(() => window.patlab.status().robustness.done >= 2, null, { timeout: 60000 });
  const fpsWhileMapping = await page.evaluate(() => new Promise((resolve) => {
    let n = 0;
    const t0 = performance.now();
    const tick = () => { n++; if (performance.now() - t0 < 1000) requestAnimationFrame(tick); else resolve(n); };
    requestAnimationFrame(tick);
  }));
  await page.waitForFunction(() => !window.patlab.status().robustness.running, null, { timeout: 240000, polling: 1000 });
  s = await st(page);
  const cells = s.robustness.accuracy.flat(2);
  check(s.robustness.done === 50 && cells.every((v) => v >= 0 && v <= 1),
        `the map filled all 50 cells (page at ${fpsWhileMapping} frames/s while computing)`);
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(outDir, 'browser_robustness.png') });
  check(await cmd(page, 'view:race'), 'back to the race');

  // 3. The address bar follows the lab.
  check(await cmd(page, 'set:layers=3') && await cmd(page, 'methods:pat,in-silico,ideal'), 'three layers, three methods');
  await page.waitForFunction(() => location.search.includes('layers=3') &&
                             location.search.includes('methods=pat,in-silico,ideal'), null, { timeout: 5000 });
  const url = page.url();
  check(true, 'the address holds the new setup: ' + url.slice(url.indexOf('?'), url.indexOf('?') + 80) + '...');
  const state = (await st(page)).state;

  // 4. Exports download as files.
  for (const [kind, name, head] of [['curves', 'patlab-curves.csv', 'method,step,device_accuracy'],
                                    ['parameters', 'patlab-parameters.json', '{'],
                                    ['experiment', 'patlab-experiment.json', '{']]) {
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 10000 }),
                                          cmd(page, 'export:' + kind)]);
    const file = path.join(outDir, name);
    await download.saveAs(file);
    const text = readFileSync(file, 'utf8');
    check(download.suggestedFilename() === name && text.startsWith(head), `export:${kind} downloads ${name} (${text.length} bytes)`);
  }
  const experiment = JSON.parse(readFileSync(path.join(outDir, 'patlab-experiment.json'), 'utf8'));
  check(experiment.layers.filter((l) => l.kind === 'physical').length === 3 && experiment.train.method === 'pat',
        'the experiment file describes three physical layers trained by PAT');

  // 5. The same link in a fresh page gives the same lab; a plain visit restores the last setup.
  const copy = await open(state);
  check((await st(copy)).state === state, 'the copied link reproduces the setup exactly');
  await copy.close();
  const plain = await open('');
  check((await st(plain)).state === state, 'a visit without a link restores the last setup (localStorage)');
  await plain.waitForTimeout(300);
  await plain.screenshot({ path: path.join(outDir, 'browser_race_three_methods.png') });

  // 6. Opening the exported experiment through the file picker, in a lab set up differently.
  check(await cmd(plain, 'system:crossbar') && await cmd(plain, 'method:spsa'), 'another setup (crossbar, SPSA)');
  const [chooser] = await Promise.all([plain.waitForEvent('filechooser', { timeout: 10000 }),
                                       plain.evaluate(() => window.patlabOpenFile())]);
  await chooser.setFiles(path.join(outDir, 'patlab-experiment.json'));
  await plain.waitForFunction(() => window.patlab.status().system === 'oscillators', null, { timeout: 10000 });
  s = await st(plain);
  check(s.physical_layers === 3 && s.methods.join() === 'pat' && s.knobs.eta === 0.5,
        'the picked experiment file sets the lab up as exported (oscillators, 3 layers, PAT, eta 0.5)');

  // 7. A bad link is refused in words and changes nothing.
  const before = (await st(plain)).state;
  check(await plain.evaluate(() => window.patlab.applyState('layers=99')) === false, 'a bad link is refused');
  s = await st(plain);
  check(s.state === before && s.error.includes('layers=99'), `and explained: "${s.error}"`);
  checkNoProblems(problems, 'no page errors');
});
