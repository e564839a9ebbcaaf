// Shared by the browser tests: how to start Chromium here, a loopback static server, running
// one test against the served lab, and opening the lab in a page.
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';

// Debian's Chromium, headless, with WebGL2 through SwiftShader. The background-networking
// flags matter: this machine has no internet, and Chromium otherwise keeps dialling out.
export function launchOptions() {
  return {
    executablePath: process.env.PATLAB_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  };
}

// Serves `dir` on 127.0.0.1 at a free port (Python's http.server knows application/wasm).
export function serveStatic(dir) {
  return new Promise((resolve, reject) => {
    const proc = spawn('python3', ['-u', '-m', 'http.server', '--bind', '127.0.0.1',
                                   '--directory', dir, '0'],
                       { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d) => {
      out += d.toString();
      const m = out.match(/port (\d+)/);
      if (m) {
        proc.stdout.off('data', onData);
        resolve({ url: `http://127.0.0.1:${m[1]}/`, close: () => proc.kill() });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', () => {});  // request logs
    proc.on('exit', (code) => reject(new Error('static server exited with ' + code + ': ' + out)));
    setTimeout(() => reject(new Error('static server did not start: ' + out)), 10000);
  });
}

// The browser tests' command line: --web <folder with index.html> [--out <folder>]. Exits with
// a usage line when --web is missing; makes the output folder.
export function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
}
export function testFolders(script) {
  const webDir = arg('--web');
  const outDir = arg('--out', '.');
  if (!webDir) {
    console.error(`usage: ${script} --web <folder with index.html> [--out <folder>]`);
    process.exit(2);
  }
  mkdirSync(outDir, { recursive: true });
  return { webDir, outDir };
}

// One expectation of a test: throws (failing the test) or prints what held.
export function check(cond, message) {
  if (!cond) throw new Error(message);
  console.log('ok: ' + message);
}

// Fails (through check) when the pages reported errors, listing them.
export function checkNoProblems(problems, message) {
  check(problems.length === 0, message + (problems.length ? ':\n  ' + problems.join('\n  ') : ''));
}

// Runs one browser test: serves `webDir`, starts Chromium and calls test({ browser, server,
// problems }), where `problems` collects the page errors the test's pages report. Closes the
// browser and the server whatever happens. A failure is printed with the problems seen so far
// and sets the exit code to 1. Returns whether the test passed.
export async function runLabTest(webDir, test) {
  const server = await serveStatic(webDir);
  const browser = await chromium.launch(launchOptions());
  const problems = [];
  try {
    await test({ browser, server, problems });
    return true;
  } catch (e) {
    console.error('FAIL: ' + e.message);
    if (problems.length) console.error(problems.join('\n'));
    process.exitCode = 1;
    return false;
  } finally {
    await browser.close();
    server.close();
  }
}

// A new 1280x800 page whose page errors go into `problems`.
export async function newLabPage(browser, problems) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  return page;
}

// Loads the lab at `url` in `page` and waits (up to a minute) until it says it has started.
export async function loadLab(page, url) {
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => window.patlab && window.patlab.started, null, { timeout: 60000 });
}
