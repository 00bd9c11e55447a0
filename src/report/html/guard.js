// Runs first: records script errors, unhandled rejections and anything the
// page's security policy blocked in <html data-errors>, so that a headless
// browser test (and a curious reader) can see that the page drew cleanly.
(function () {
  'use strict';
  var root = document.documentElement;
  function note(msg) {
    var prev = root.getAttribute('data-errors');
    root.setAttribute('data-errors', (prev ? prev + '\n' : '') + String(msg));
  }
  window.addEventListener('error', function (e) {
    note(e.message || 'error');
  });
  window.addEventListener('unhandledrejection', function (e) {
    note('unhandled rejection: ' + e.reason);
  });
  document.addEventListener('securitypolicyviolation', function (e) {
    note('blocked by the page policy: ' + e.violatedDirective + ' ' + e.blockedURI);
  });
})();
