// The page's serial port (Web Serial, Chromium browsers): window.patlabSerial. The protocol
// runs in wasm (wasm/web_serial.cpp); this file only moves bytes, and never makes the lab wait:
//
//   connect(baud)  asks for a port (navigator.serial.requestPort), opens it 8N1 at `baud`, then
//                  reads in a loop of its own: bytes accumulate, and every whole frame (the
//                  bytes between two 0x00 delimiters, docs/protocol.md) goes to wasm
//   write(bytes)   queues bytes for the port (writes are chained, never awaited by the caller)
//   disconnect()   closes the port
//
// The port's state goes to wasm as "choosing", "opening", "open", "lost", "closed" or "error"
// with a message in words. A device that vanishes (unplugged, reset) is reopened when it comes
// back (navigator.serial's "connect" event), and training, which waited, goes on.
(function () {
  'use strict';
  const MAX_FRAME = 70000;  // a body is at most 65535 bytes; its COBS form a little more
  const S = { port: null, reader: null, writer: null, baud: 115200, wanted: false,
              chain: Promise.resolve(), buf: new Uint8Array(4096), len: 0, skipping: false };

  function M() { return window.Module; }
  function tell(state, message) {
    const m = M();
    if (m && m.ccall) m.ccall('patlab_serial_port', null, ['string', 'string'], [state, message || '']);
  }

  function words(e, what) {
    const name = e && e.name ? e.name : '';
    const msg = e && e.message ? e.message : String(e);
    if (name === 'NotFoundError') return 'no port chosen';
    if (name === 'SecurityError') return 'the page may not use serial ports here (it needs https or localhost)';
    if (name === 'InvalidStateError') return 'the port is already open (another tab?)';
    if (name === 'NetworkError' && what === 'open')
      return 'the port is busy: another program or tab has it open (' + msg + ')';
    if (name === 'NetworkError') return 'the device was lost (' + msg + ')';
    return what + ' failed: ' + msg;
  }

  // Bytes in; whole frames out to wasm. Junk without a delimiter is dropped past MAX_FRAME.
  function feed(chunk) {
    const m = M();
    for (let i = 0; i < chunk.length; ++i) {
      const b = chunk[i];
      if (b === 0) {
        if (S.len > 0 && !S.skipping) {
          const p = m._patlab_serial_buffer(S.len);
          m.HEAPU8.set(S.buf.subarray(0, S.len), p);
          m._patlab_serial_frame(S.len);
        }
        S.len = 0;
        S.skipping = false;
        continue;
      }
      if (S.skipping) continue;
      if (S.len === S.buf.length) {
        if (S.len >= MAX_FRAME) { S.skipping = true; S.len = 0; continue; }
        const bigger = new Uint8Array(S.buf.length * 2);
        bigger.set(S.buf);
        S.buf = bigger;
      }
      S.buf[S.len++] = b;
    }
  }

  async function readLoop(port) {
    // After a non-fatal error (framing, parity, break) port.readable is a new stream.
    while (S.port === port && port.readable) {
      const reader = port.readable.getReader();
      S.reader = reader;
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          if (value && value.length) feed(value);
        }
      } catch (e) {
        if (e && (e.name === 'NetworkError' || e.name === 'NotFoundError')) {
          lost(port, words(e, 'read'));
          return;
        }
        console.warn('patlab serial: ' + words(e, 'read'));
      } finally {
        try { reader.releaseLock(); } catch (e) { /* already released */ }
      }
    }
    if (S.port === port && S.wanted) lost(port, 'the port stopped delivering data');
  }

  function lost(port, why) {
    if (S.port !== port) return;
    S.port = null;
    S.writer = null;
    S.reader = null;
    S.len = 0;
    tell('lost', 'connection lost: ' + why + '; waiting for the device to come back');
    try { port.close().catch(() => {}); } catch (e) { /* gone */ }
    S.lostPort = port;
  }

  async function open(port) {
    tell('opening');
    try {
      await port.open({ baudRate: S.baud, dataBits: 8, stopBits: 1, parity: 'none', flowControl: 'none' });
    } catch (e) {
      tell('error', words(e, 'open'));
      return false;
    }
    if (!S.wanted) { port.close().catch(() => {}); return false; }
    S.port = port;
    S.lostPort = null;
    S.len = 0;
    S.skipping = false;
    S.writer = port.writable.getWriter();
    S.chain = Promise.resolve();
    tell('open');
    readLoop(port);
    return true;
  }

  window.patlabSerial = {
    available: () => !!navigator.serial,
    connect(baud) {
      if (!navigator.serial) { tell('error', 'this browser has no Web Serial'); return; }
      S.baud = baud || 115200;
      S.wanted = true;
      tell('choosing');
      navigator.serial.requestPort({}).then(open, (e) => tell('error', words(e, 'choosing a port')));
    },
    write(bytes) {
      const w = S.writer, port = S.port;
      if (!w) return;
      S.chain = S.chain.then(() => w.write(bytes)).catch((e) => lost(port, words(e, 'write')));
    },
    disconnect() {
      S.wanted = false;
      const port = S.port;
      S.port = null;
      S.lostPort = null;
      if (!port) return;
      const close = async () => {
        try { if (S.reader) await S.reader.cancel(); } catch (e) { /* closing anyway */ }
        try { if (S.writer) S.writer.releaseLock(); } catch (e) { /* closing anyway */ }
        S.reader = S.writer = null;
        try { await port.close(); } catch (e) { /* closing anyway */ }
        tell('closed', 'disconnected');
      };
      close();
    },
  };

  // A device that comes back (plugged in again) is reopened: training resumes by itself.
  if (navigator.serial && navigator.serial.addEventListener) {
    navigator.serial.addEventListener('connect', (e) => {
      const port = e.target || e.port;
      if (S.wanted && !S.port && S.lostPort && (port === S.lostPort || !port)) open(S.lostPort);
    });
    navigator.serial.addEventListener('disconnect', (e) => {
      const port = e.target || e.port;
      if (S.port && (port === S.port || !port)) lost(S.port, 'the device was unplugged');
    });
  }
})();
