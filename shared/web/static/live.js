// Reloads the "In progress" fragment of the overview every 10 seconds (no inline script: CSP).
(function () {
  var box = document.getElementById("live-calls");
  if (!box || !window.fetch) return;
  var url = box.getAttribute("data-live-url");
  function refresh() {
    if (document.hidden) return;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) box.innerHTML = html; })
      .catch(function () {});
  }
  setInterval(refresh, 10000);
})();
