// The page's side of the lab: the emscripten Module configuration and window.patlab, the
// JavaScript-visible hook that tests and the page use to talk to the app.
//
//   patlab.status()           -> the lab's state as an object (ready, step, accuracies, ...)
//   patlab.command(string)    -> true if accepted: "train", "pause", "reset", "methods:pat,ideal", ...
//   patlab.applyState(query)  -> true if the setup in a URL query was applied
//   patlab.importFile(name, text) -> true if an experiment (.json) or data (.csv) was opened
//   patlab.lesson()           -> the lesson player's state (open lesson, step, checkpoints, ...);
//                                patlab.command("lesson:...") drives it
//
// The setup lives in the address bar (a link reproduces it) and in localStorage (a reload
// keeps it), with the open lesson (?lesson=<name>, &teacher=1 for teacher mode); the lessons'
// progress is kept in localStorage. Files: downloads for the export buttons, a file picker,
// drag and drop.
(function () {
  'use strict';
  const overlay = document.getElementById('overlay');
  const overlayText = document.getElementById('overlay-text');
  const STORE_KEY = 'patlab.state';
  const LESSONS_KEY = 'patlab.lessons';

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

  // Called by the app's export buttons.
  window.patlabDownload = function (name, mime, text) {
    const url = URL.createObjectURL(new Blob([text], { type: mime }));
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  function openFiles(files) {
    for (const file of files) {
      file.text().then((text) => {
        if (!window.patlab.importFile(file.name, text)) {
          console.error('patlab: ' + window.patlab.status().error);
        }
      });
    }
  }
  const picker = document.createElement('input');
  picker.type = 'file';
  picker.accept = '.json,.csv';
  picker.style.display = 'none';
  picker.addEventListener('change', () => { openFiles(picker.files); picker.value = ''; });
  document.body.appendChild(picker);
  window.patlabOpenFile = () => picker.click();
  window.addEventListener('dragover', (e) => { e.preventDefault(); });
  window.addEventListener('drop', (e) => {
    e.preventDefault();
    if (e.dataTransfer && e.dataTransfer.files.length) openFiles(e.dataTransfer.files);
  });

  function store(key, value) {
    try { localStorage.setItem(key, value); } catch (e) { /* private mode: fine */ }
  }
  function stored(key) {
    try { return localStorage.getItem(key); } catch (e) { return null; }
  }

  // Mirrors the lab's state and the open lesson into the address bar, and both with the
  // lessons' progress into localStorage, twice a second.
  function keepState() {
    let last = '', lastProgress = '';
    setInterval(() => {
      const s = window.patlab.status();
      if (!s.ready || s.loading) return;
      const lesson = window.patlab.lesson();
      const extra = (lesson.open ? '&lesson=' + encodeURIComponent(lesson.open) : '') +
        (lesson.teacher ? '&teacher=1' : '');
      if (s.state + extra !== last) {
        last = s.state + extra;
        history.replaceState(null, '', '?' + s.state + extra);
        store(STORE_KEY, s.state);
      }
      const progress = window.patlab.lessonProgress();
      if (progress !== lastProgress) {
        lastProgress = progress;
        store(LESSONS_KEY, progress);
      }
    }, 500);
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
        applyState: (q) => M.ccall('patlab_apply_state', 'number', ['string'], [q]) === 1,
        importFile: (name, text) =>
          M.ccall('patlab_import', 'number', ['string', 'string'], [name, text]) === 1,
        lesson: () => JSON.parse(M.UTF8ToString(M._patlab_lesson_status())),
        lessonProgress: () => M.UTF8ToString(M._patlab_lesson_progress()),
      };
      // Once main() has made the lab: a link's setup wins over the one remembered from the
      // last visit; then the overlay goes.
      const wait = () => {
        if (!window.patlab.status().ready) {
          requestAnimationFrame(wait);
          return;
        }
        const saved = stored(STORE_KEY);
        const query = location.search.length > 1 ? location.search.slice(1) : saved;
        if (query && !window.patlab.applyState(query)) {
          console.error('patlab: ' + window.patlab.status().error);
        }
        // The lessons: progress from the last visit, then the link's lesson and mode.
        const progress = stored(LESSONS_KEY);
        if (progress && M.ccall('patlab_lesson_restore', 'number', ['string'], [progress]) !== 1) {
          console.warn('patlab: the saved lesson progress was unreadable; starting afresh');
        }
        const params = new URLSearchParams(location.search);
        if (params.has('teacher')) {
          const on = ['1', 'on', 'true', 'yes'].includes(params.get('teacher'));
          window.patlab.command('lesson:teacher=' + (on ? 'on' : 'off'));
        }
        if (params.get('lesson') && !window.patlab.command('lesson:open=' + params.get('lesson'))) {
          console.error('patlab: ' + window.patlab.lesson().error);
        }
        keepState();
        window.patlab.started = true;
        overlay.classList.add('hidden');
      };
      requestAnimationFrame(wait);
    },
  };
})();
