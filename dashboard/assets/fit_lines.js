// Lets the shown publicity card of a bus-stop screen use every line its area has room for. A fixed clamp of three
// lines cut a card's text with "…" above an empty band on a 1080p stop (the title at the top, the text at the
// bottom); the stylesheet's clamp stays as the fallback when this does not run.
(function () {
  function fit() {
    document.querySelectorAll(".stop-item.active").forEach(function (item) {
      var body = item.querySelector("p");
      var area = item.parentElement;
      if (!body || !area) { return; }
      var title = item.querySelector("h3");
      var taken = title ? title.offsetHeight + parseFloat(getComputedStyle(title).marginBottom || "0") : 0;
      var line = parseFloat(getComputedStyle(body).lineHeight);
      if (!(line > 0)) { return; }
      // The card's area, not the card: a card given more lines grows, and would be measured larger next time.
      body.style.webkitLineClamp = String(Math.max(1, Math.floor((area.clientHeight - taken) / line)));
    });
  }

  function watch() {
    // A card shown by the rotation (its class changes) or new cards from a refresh are fitted before they are
    // drawn: an observer's callback runs before the browser paints.
    new MutationObserver(fit).observe(document.body, {
      subtree: true, childList: true, attributes: true, attributeFilter: ["class"],
    });
    window.addEventListener("resize", fit);
    fit();
  }

  if (location.pathname.indexOf("/stop/") !== 0) { return; }  // only a stop screen has cards (a page of its own)
  if (document.body) { watch(); } else { document.addEventListener("DOMContentLoaded", watch); }
})();
