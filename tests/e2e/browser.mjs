// Shared by the browser tests: how to start Chromium here, and a loopback static server.
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
