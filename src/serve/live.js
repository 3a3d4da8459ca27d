// thematic serve: live reload and the error overlay. Injected by `serve` only, never in `build` output.
(() => {
  "use strict";
  const here = () => {
    let p = decodeURIComponent(location.pathname).replace(/^\/+/, "");
    if (p === "" || p.endsWith("/")) p += "index.html";
    return p;
  };
  let overlay = null;
  const showErrors = (errors) => {
    if (!errors.length) {
      if (overlay) overlay.remove();
      overlay = null;
      return;
    }
    if (!overlay) {
      overlay = document.createElement("div");
      overlay.id = "thematic-errors";
      overlay.setAttribute("role", "alert");
      overlay.style.cssText =
        "position:fixed;inset:auto 0 0 0;max-height:60vh;overflow:auto;z-index:2147483647;" +
        "background:#2b0b0b;color:#ffe4e4;border-top:4px solid #e5484d;padding:1rem;" +
        "font:13px/1.45 ui-monospace,Menlo,Consolas,monospace";
      document.body.appendChild(overlay);
    }
    overlay.replaceChildren();
    const title = document.createElement("p");
    title.style.cssText = "margin:0 0 .5rem;font-weight:bold";
    title.textContent = `thematic: ${errors.length} error${errors.length === 1 ? "" : "s"}; this page shows the last good build`;
    overlay.appendChild(title);
    for (const e of errors) {
      const pre = document.createElement("pre");
      pre.style.cssText = "margin:0 0 .75rem;white-space:pre-wrap";
      pre.textContent = e;
      overlay.appendChild(pre);
    }
  };
  const swapStyles = () => {
    for (const link of document.querySelectorAll('link[rel="stylesheet"]')) {
      const url = new URL(link.href);
      url.searchParams.set("thematic-reload", Date.now().toString());
      link.href = url.toString();
    }
  };
  const events = new EventSource("/__thematic/events");
  events.addEventListener("errors", (e) => showErrors(JSON.parse(e.data)));
  events.addEventListener("css", swapStyles);
  events.addEventListener("reload", (e) => {
    const changed = JSON.parse(e.data);
    if (changed.includes(here()) || changed.includes("*")) location.reload();
  });
  // After a reconnect (the server restarted), reload to pick up whatever changed.
  let opened = false;
  events.addEventListener("open", () => {
    if (opened) location.reload();
    opened = true;
  });
  fetch("/__thematic/errors")
    .then((r) => r.json())
    .then(showErrors)
    .catch(() => {});
})();
