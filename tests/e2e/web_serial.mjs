// Browser end-to-end test of Web Serial: a stand-in navigator.serial whose port is backed by
// the device emulator (pl_device over an emulated catalog system, built into the page's wasm as
// test-only exports patlab_test_device_*). The page's Connect button asks for a port, the
// handshake describes the device, PAT trains through it to about the accuracy of in-process
// emulation, garbage bytes, dropped replies and a vanishing device do not stop it, and a
// browser without Web Serial is told so. Writes a screenshot with the device connected.
//
//   node tests/e2e/web_serial.mjs --web <build>/web --out <folder>
import { chromium } from 'playwright-core';
import path from 'node:path';
import { check, launchOptions, serveStatic, testFolders } from './browser.mjs';

const { webDir, outDir } = testFolders('web_serial.mjs');
const EPOCHS = 16;

// The stand-in: one port; bytes written to it go to the device in the page's wasm, its replies
// come back through the readable stream a moment later. window.__serial.faults injects trouble.
function standIn() {
  const T = { faults: { garbage: 0, dropReply: 0 }, boot: 0, writes: 0, busy: false };
  window.__serial = T;
  class FakePort extends EventTarget {
    constructor() { super(); this.readable = null; this.writable = null; }
    getInfo() { return { usbVendorId: 0x1209, usbProductId: 0x0001 }; }
    async open(options) {
      if (T.busy) throw new DOMException('Failed to open serial port.', 'NetworkError');
      if (this.readable) throw new DOMException('The port is already open.', 'InvalidStateError');
      T.baud = options.baudRate;
      const M = window.Module;
      M.ccall('patlab_test_device_open', 'number', ['string', 'number', 'number'], ['oscillators', 1, ++T.boot]);
      this.readable = new ReadableStream({ start: (c) => { this.rc = c; } });
      this.writable = new WritableStream({ write: (chunk) => this.toDevice(chunk) });
    }
    toDevice(chunk) {
      ++T.writes;
      const M = window.Module;
      const p = M._patlab_test_device_buffer(chunk.length);
      M.HEAPU8.set(chunk, p);
      const n = M._patlab_test_device_push(chunk.length);
      if (!n) return;
      let reply = M.HEAPU8.slice(M._patlab_test_device_reply(), M._patlab_test_device_reply() + n);
      if (T.faults.dropReply > 0) { --T.faults.dropReply; return; }
      if (T.faults.garbage > 0) {
        --T.faults.garbage;
        const junk = new Uint8Array(40).map((_, i) => (i * 37 + 11) & 0xff);
        const both = new Uint8Array(junk.length + reply.length);
        both.set(junk);
        both.set(reply, junk.length);
        reply = both;
      }
      const rc = this.rc;
      setTimeout(() => { try { rc.enqueue(reply); } catch (e) { /* closed */ } }, 2);
    }
    vanish() {
      this.rc.error(new DOMException('The device has been lost.', 'NetworkError'));
    }
    async close() { this.readable = null; this.writable = null; }
  }
  const port = new FakePort();
  T.port = port;
  const serial = new EventTarget();
  serial.requestPort = async () => { T.asked = (T.asked || 0) + 1; return port; };
  serial.getPorts = async () => [port];
  T.comeBack = () => {
    const e = new Event('connect');
    Object.defineProperty(e, 'target', { value: port });
    serial.dispatchEvent(e);
  };
  Object.defineProperty(Navigator.prototype, 'serial', { get: () => serial, configurable: true });
}

const server = await serveStatic(webDir);
const browser = await chromium.launch(launchOptions());
const problems = [];
try {
  // ---- in-process emulation, for comparison ----
  const ref = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  ref.on('pageerror', (e) => problems.push('page error: ' + e.message));
  await ref.goto(server.url, { waitUntil: 'load' });
  await ref.waitForFunction(() => window.patlab && window.patlab.started, null, { timeout: 60000 });
  await ref.evaluate((e) => { window.patlab.command('methods:pat'); window.patlab.command('set:epochs=' + e);
                              window.patlab.command('set:steps_per_frame=4'); window.patlab.command('train'); }, EPOCHS);
  await ref.waitForFunction(() => !window.patlab.status().training, null, { timeout: 120000, polling: 250 });
  const emulated = await ref.evaluate(() => window.patlab.status());
  check(emulated.lanes[0].on_device === false, `in-process emulation: PAT ${emulated.lanes[0].test.device.accuracy} ` +
        `after ${emulated.step} steps (measured at ${emulated.measured_at_step})`);
  await ref.close();

  // ---- the stand-in port ----
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') console.log('console: ' + m.text()); });
  await page.addInitScript(standIn);
  await page.goto(server.url, { waitUntil: 'load' });
  await page.waitForFunction(() => window.patlab && window.patlab.started, null, { timeout: 60000 });
  const st = () => page.evaluate(() => window.patlab.status());
  const cmd = (c) => page.evaluate((c) => window.patlab.command(c), c);

  let s = await st();
  check(s.device && s.device.available === true && s.device.use === false, 'the page sees Web Serial and starts emulated');
  await page.waitForFunction(() => window.patlab.status().device.connect_button[2] > 0, null, { timeout: 10000 });
  s = await st();
  // A busy port first: the error in words, nothing connected.
  await page.evaluate(() => { window.__serial.busy = true; });
  const [bx, by, bw, bh] = s.device.connect_button;
  await page.mouse.click(bx + bw / 2, by + bh / 2);
  await page.waitForFunction(() => window.patlab.status().device.port_error !== '', null, { timeout: 10000 });
  s = await st();
  check(s.device.port_error.includes('busy') && !s.device.connected, `a busy port is explained: "${s.device.port_error}"`);
  await page.evaluate(() => { window.__serial.busy = false; });

  // The Connect button: requestPort on the stand-in, open, handshake.
  await cmd('methods:pat');
  await cmd('set:epochs=' + EPOCHS);
  await page.waitForFunction(() => window.patlab.status().device.connect_button[2] > 0, null, { timeout: 10000 });
  s = await st();
  const [cx, cy, cw, ch] = s.device.connect_button;
  await page.mouse.click(cx + cw / 2, cy + ch / 2);
  await page.waitForFunction(() => window.patlab.status().device.connected && window.patlab.status().lanes[0].on_device,
                             null, { timeout: 20000 });
  s = await st();
  const asked = await page.evaluate(() => window.__serial.asked);
  check(asked >= 2 && s.device.name === 'oscillators' && s.device.inputs === 8 && s.device.outputs === 8,
        `the Connect button asked for a port and the handshake described '${s.device.name}': ${s.device.inputs} in, ` +
        `${s.device.params} parameters, ${s.device.outputs} out, ${s.device.format}, ${s.device.batch_limit} samples a request, ` +
        `${await page.evaluate(() => window.__serial.baud)} baud`);
  check(s.lanes[0].method === 'pat' && s.lanes[0].on_device, 'the PAT lane runs on the device');

  // Train through it, with faults on the way.
  check(await cmd('train'), 'training starts');
  await page.waitForFunction(() => window.patlab.status().step >= 40, null, { timeout: 60000, polling: 200 });
  await page.evaluate(() => { window.__serial.faults.garbage = 3; window.__serial.faults.dropReply = 2; });
  await page.waitForFunction(() => window.__serial.faults.garbage === 0 && window.__serial.faults.dropReply === 0,
                             null, { timeout: 30000 });
  const stepAfterFaults = (await st()).step;
  await page.waitForFunction((n) => window.patlab.status().step >= n + 20, stepAfterFaults, { timeout: 30000, polling: 200 });
  s = await st();
  const replays = await page.evaluate(() => window.Module._patlab_test_device_replays());
  check(s.device.retries >= 2 && s.device.bad_frames >= 1 && replays >= 2 && s.training,
        `garbage and dropped replies: ${s.device.bad_frames} bad frames skipped, ${s.device.retries} re-sends, ` +
        `${replays} replayed by the device, training went on (step ${s.step})`);

  // The device vanishes: training waits with a message, and resumes when it is back.
  await page.evaluate(() => window.__serial.port.vanish());
  await page.waitForFunction(() => window.patlab.status().error.includes('connection lost'), null, { timeout: 10000 });
  s = await st();
  const stepLost = s.step;
  check(s.training && !s.device.connected, `a vanished device: "${s.error}"`);
  await page.waitForTimeout(1000);
  check((await st()).step <= stepLost + 1, 'no step is taken while it is gone');
  await page.evaluate(() => window.__serial.comeBack());
  await page.waitForFunction((n) => window.patlab.status().step >= n + 10, stepLost, { timeout: 30000, polling: 200 });
  s = await st();
  check(s.device.connected && s.device.device_restarts === 1 && s.error === '',
        `back (a restarted device, boot ${s.device.boot_id}): training resumed, step ${s.step}`);

  // To the end of the epochs, then compare with in-process emulation.
  await page.waitForFunction(() => !window.patlab.status().training, null, { timeout: 240000, polling: 500 });
  s = await st();
  const a = s.lanes[0].test.device.accuracy, b = emulated.lanes[0].test.device.accuracy;
  check(a > 0.8 && Math.abs(a - b) <= 0.08,
        `PAT over Web Serial: device accuracy ${a} after ${s.step} steps, in-process emulation ${b}; ` +
        `${s.device.requests} requests, ${s.device.bytes_sent} bytes out, ${s.device.bytes_received} in`);
  await page.waitForTimeout(800);
  await page.screenshot({ path: path.join(outDir, 'browser_web_serial.png') });

  check(await cmd('device:emulated'), 'Disconnect');
  await page.waitForFunction(() => !window.patlab.status().lanes[0].on_device, null, { timeout: 10000 });
  check(true, 'the lanes are back on the emulator');
  await page.close();

  // ---- a browser without Web Serial ----
  const plain = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  plain.on('pageerror', (e) => problems.push('page error: ' + e.message));
  await plain.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'serial', { get: () => undefined, configurable: true });
  });
  await plain.goto(server.url, { waitUntil: 'load' });
  await plain.waitForFunction(() => window.patlab && window.patlab.started, null, { timeout: 60000 });
  const ok = await plain.evaluate(() => window.patlab.command('device:serial'));
  const p = await plain.evaluate(() => window.patlab.status());
  check(!p.device.available && !ok && p.device.port_error.includes('no Web Serial'),
        `without Web Serial: device:serial refused ("${p.device.port_error}"), the panel says so`);
  await plain.screenshot({ path: path.join(outDir, 'browser_no_web_serial.png') });
  await plain.close();

  check(problems.length === 0, 'no page errors' + (problems.length ? ': ' + problems.join('; ') : ''));
} finally {
  await browser.close();
  server.close();
}
