// The page's side of the lab: the emscripten Module configuration and window.patlab, the
// JavaScript-visible hook that tests and the page use to talk to the app.
//
//   patlab.status()        -> the lab's state as an object (ready, step, test accuracy, ...)
//   patlab.command(string) -> true if accepted: "train", "pause", "reset", "method:pat", ...
(function () {
  'use strict';
  const overlay = document.getElementById('overlay');
  const overlayText = document.getElementById('overlay-text');

  function fatal(message) {
    overlay.classList.remove('hidden');
    overlay.classList.add('error');
    overlayText.textContent = 'The lab could not start: ' + message;
  }
  window.patlabFatal = fatal;

  const canvas = document.getElementById('canvas');
  canvas.addEventListener('webglcontextlost', (e) => {
    e.preventDefault();
    fatal('the WebGL context was lost. Reload the page.');
  });
  if (!document.createElement('canvas').getContext('webgl2')) {
    fatal('this browser has no WebGL2.');
  }

  window.Module = {
    canvas: canvas,
    print: (text) => console.log(text),
    printErr: (text) => console.warn(text),
    onAbort: (what) => fatal(String(what)),
    onRuntimeInitialized: function () {
      const M = window.Module;
      window.patlab = {
        status: () => JSON.parse(M.UTF8ToString(M._patlab_status())),
        command: (cmd) => M.ccall('patlab_command', 'number', ['string'], [cmd]) === 1,
      };
      // Hide the loading screen once the app has drawn its first frames.
      const wait = () => {
        if (window.patlab.status().ready) overlay.classList.add('hidden');
        else requestAnimationFrame(wait);
      };
      requestAnimationFrame(wait);
    },
  };
})();
