// A form sent twice (a double click, an impatient second click while the server works) would
// record a receipt or a request twice. The server refuses the repeat; this stops the browser
// from sending it. A few seconds later the form can be sent again (a download leaves the page
// open), and a page restored from the back/forward cache starts afresh.
(function () {
  "use strict";
  var PAUSE_MS = 5000;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if ((form.method || "").toLowerCase() !== "post" || event.defaultPrevented) return;
    if (form.dataset.sending) {
      event.preventDefault();
      return;
    }
    form.dataset.sending = "1";
    window.setTimeout(function () { delete form.dataset.sending; }, PAUSE_MS);
  });
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-sending]").forEach(function (form) {
      delete form.dataset.sending;
    });
  });
})();
