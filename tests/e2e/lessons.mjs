// Browser end-to-end test of the lesson player: a link opens a lesson in teacher mode, the
// learner sets the lab up for a step and trains with the mouse, the checkpoint ticks; the next
// step asks its question before training; a reload keeps the progress. Writes screenshots.
//
//   node tests/e2e/lessons.mjs --web <build>/web --out <folder>
import path from 'node:path';
import { check, loadLab, newLabPage, runLabTest, testFolders } from './browser.mjs';

const { webDir, outDir } = testFolders('lessons.mjs');

const passed = await runLabTest(webDir, async ({ browser, server, problems }) => {
  const page = await newLabPage(browser, problems);
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
  const lesson = () => page.evaluate(() => window.patlab.lesson());
  const lab = () => page.evaluate(() => window.patlab.status());
  const click = async (r, what) => {
    check(Array.isArray(r) && r.length === 4 && r[2] > 0, `${what} is on screen`);
    await page.mouse.click(r[0] + r[2] / 2, r[1] + r[3] / 2);
  };

  // A link straight into lesson 3, teacher mode on.
  await loadLab(page, server.url + '?lesson=reality-gap&teacher=1');
  await page.waitForFunction(() => window.patlab.lesson().ui.apply.length === 4, null, { timeout: 10000 });
  let l = await lesson();
  check(l.open === '03-reality-gap' && l.step === 0 && l.teacher,
        `the link opens the lesson "${l.open}" at step ${l.step} in teacher mode`);
  check(l.checks.length === 1 && l.checks[0].state === 'inactive', 'its checkpoint waits for the setup');
  let s = await lab();
  check(JSON.stringify(s.controls) === '["training"]', `teacher mode shows only the step's controls: ${JSON.stringify(s.controls)}`);
  await page.screenshot({ path: path.join(outDir, 'browser_lesson_open.png') });

  // Set up, then train with the Train button, as a learner would.
  await click(l.ui.apply, 'the "Set up the lab" button');
  await page.waitForFunction(() => window.patlab.lesson().applied, null, { timeout: 10000 });
  s = await lab();
  check(s.methods.join() === 'in-silico' && s.state.includes('knob.eta=0'), `the step's setup is on the lab: ${s.state}`);
  check((await lesson()).checks[0].state === 'waiting', 'the checkpoint is active');
  await page.evaluate(() => window.patlab.command('set:steps_per_frame=20'));
  await click(s.ui.train_button, 'the Train button');
  await page.waitForFunction(() => window.patlab.lesson().checks[0].state !== 'waiting', null,
                             { timeout: 120000, polling: 250 });
  l = await lesson();
  s = await lab();
  check(l.checks[0].state === 'met' && l.done,
        `the checkpoint ticks: "${l.checks[0].text}" (${l.checks[0].detail}) after ${s.step} steps`);
  check(!s.training, 'a finished step pauses the lab');
  await page.waitForTimeout(700);  // the panel redraws within half a second
  await page.screenshot({ path: path.join(outDir, 'browser_lesson_checkpoint.png') });

  // The next step asks before training. (The panel's layout settles once redrawn: read the
  // button's place afresh.)
  l = await lesson();
  await click(l.ui.next, 'the Next button');
  await page.waitForFunction(() => window.patlab.lesson().step === 1, null, { timeout: 10000 });
  await page.waitForFunction(() => window.patlab.lesson().ui.answers.length === 2, null, { timeout: 10000 });
  l = await lesson();
  check(l.predict && l.predict.answered === -1, `step 2 asks: "${l.predict && l.predict.question}"`);
  s = await lab();
  check(JSON.stringify(s.controls) === '["training","knobs"]', 'teacher mode follows the step');
  await click(s.ui.train_button, 'the Train button');
  await page.waitForFunction(() => window.patlab.lesson().predict.waiting_for_answer, null, { timeout: 10000 });
  check(!(await lab()).training, 'training waits for a prediction');
  await page.waitForTimeout(700);
  l = await lesson();
  await click(l.ui.answers[0], 'the first answer');
  await page.waitForFunction(() => window.patlab.lesson().predict.answered === 0, null, { timeout: 10000 });
  check(true, 'the prediction is recorded');

  // A reload: the lesson, its step and the progress are still there.
  await page.waitForTimeout(1200);  // the page saves twice a second
  check(page.url().includes('lesson=03-reality-gap'), `the address names the lesson: ${page.url()}`);
  await page.reload({ waitUntil: 'load' });
  await page.waitForFunction(() => window.patlab && window.patlab.started, null, { timeout: 60000 });
  l = await lesson();
  const entry = l.lessons.find((e) => e.name === '03-reality-gap');
  check(l.open === '03-reality-gap' && l.step === 1 && entry.done === 1 && l.predict.answered === 0,
        `after a reload: step ${l.step + 1}, ${entry.done} of ${entry.steps} steps done, the answer kept`);

  // Closing the lesson gives all controls back and takes it out of the address.
  check(await page.evaluate(() => window.patlab.command('lesson:close')), 'lesson:close');
  await page.waitForTimeout(1200);
  s = await lab();
  check(s.controls === undefined && !page.url().includes('lesson='), 'closed: every control back, the address without it');
  check(!(await page.evaluate(() => window.patlab.command('lesson:open=no-such-lesson'))),
        'an unknown lesson is refused');
  l = await lesson();
  check(l.error.includes('no lesson') && l.error.includes('01-physical-layer'), `and explained: "${l.error}"`);
  await page.screenshot({ path: path.join(outDir, 'browser_lesson_list.png') });
  check(problems.length === 0, 'no page errors: ' + problems.join('; '));
});
if (passed) console.log('lessons.mjs: all checks passed');
