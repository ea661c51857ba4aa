// Hands the search index to Material's search worker at a moment when Material cannot lose it.
// Loaded before Material's bundle (build/theme/main.html); a local script, like book.js.
//
// Why: Material 8.2.5 (Debian's, pinned) sends every message to its search worker through
// `throttle(reply, { leading: true, trailing: true })`: while one message awaits its reply, only
// the latest of the messages sent meanwhile is kept. The first message is the empty query the
// search box sends when it mounts. If the index (search_index.json) is fetched and parsed before
// the worker answers that query, the index's setup message waits as the trailing one, and the
// first key a reader types replaces it: the worker never gets its index, and every search on that
// page finds nothing, for good. On a busy machine the worker answers late, and CI lost search
// this way (December 2026). test/site/book.spec.ts holds the worker's first answer back to show it.
//
// How: Material takes its index from `__search.index` when that is set. This script fetches the
// index itself and resolves that promise only once Material has made its search worker (in the
// same task, Material posts the empty query) and no message to the worker awaits its reply. Either
// the index arrives when the worker is idle, and its setup message goes at once; or it resolves
// from inside the listener that sees the last reply, which this script registered first: the
// promise's callbacks run before Material's own listeners see that reply (the browser runs pending
// promise callbacks after each listener), so the setup message is the trailing one at the instant
// Material sends the trailing message on, and no key can come between. A query it displaces is not
// lost: Material sends the latest query again once the index is ready. Were the index handed over
// before the worker existed, the empty query would go first and the setup message would trail it:
// the bug again. A failed fetch leaves the promise pending, as Material's own fetch leaves search.
(() => {
  const form = document.forms.namedItem("search");
  const configElement = document.getElementById("__config");
  if (!form || !configElement || typeof window.Worker !== "function") return;
  const base = new URL(JSON.parse(configElement.textContent).base, location.href);
  const NativeWorker = window.Worker;
  let started = false;     // Material has made its search worker
  let awaitingReply = 0;   // messages posted to the search worker that it has not answered yet
  let fetched = null;      // the parsed index, until it is handed over
  let handOver = null;     // resolves the promise Material reads the index from

  const tryHandOver = () => {
    if (!started || fetched === null || handOver === null || awaitingReply !== 0) return;
    const index = fetched;
    const resolve = handOver;
    fetched = null;
    handOver = null;
    resolve(index);
  };

  window.Worker = class extends NativeWorker {
    constructor(url, options) {
      super(url, options);
      this.searchWorker = /\/workers\/search\.[^/]*\.js$/.test(new URL(String(url), location.href).pathname);
      if (!this.searchWorker) return;
      started = true;
      // Registered before Material's listeners, which it adds once it has sent its first message.
      this.addEventListener("message", () => {
        awaitingReply -= 1;
        tryHandOver();
      });
    }
    postMessage(message, transfer) {
      if (transfer === undefined) super.postMessage(message);
      else super.postMessage(message, transfer);
      if (this.searchWorker) awaitingReply += 1;   // after: a message that failed to go awaits nothing
    }
  };

  const index = new Promise((resolve) => {
    handOver = resolve;
    fetch(new URL("search/search_index.json", base))
      .then((response) => (response.ok ? response.json() : Promise.reject(new Error(`HTTP ${response.status}`))))
      .then((json) => { fetched = json; tryHandOver(); })
      .catch((error) => console.warn(`search: no index (${error.message}); search stays off on this page`));
  });
  // Material's options object. The name is also the id of Material's search toggle, which the
  // window exposes as `window.__search` until a script sets the global: keep only a real object.
  const options = window.__search;
  window.__search = Object.assign(options && !(options instanceof Element) ? options : {}, { index });
})();
