// A stand-in for the VS Code webview host, loaded before dist/webview/main.js on the test page.
// acquireVsCodeApi() records every posted message; tests deliver host messages with
// __host.deliver(msg) (structured clone via window.postMessage, like VS Code) — byte fields may be
// given as {$b64: '…'} because Playwright's evaluate() cannot carry Uint8Array. State lives in
// sessionStorage so a page reload sees what setState stored (as a reloaded webview does).
(function () {
  'use strict';
  const KEY = 'protolab-test-state';
  const revive = (x) => {
    if (Array.isArray(x)) return x.map(revive);
    if (x && typeof x === 'object') {
      if (typeof x.$b64 === 'string') return Uint8Array.from(atob(x.$b64), (c) => c.charCodeAt(0));
      const o = {};
      for (const k of Object.keys(x)) o[k] = revive(x[k]);
      return o;
    }
    return x;
  };
  const host = {
    posted: [],
    setStateCalls: 0,
    acquired: 0,
    /** set by a bench: (msg) => void, takes every posted message instead of recording it */
    relay: null,
    /** optional automatic answers: { total, classNames, episodeView } */
    auto: null,
    deliver(msg) { window.postMessage(revive(msg), '*'); },
    configure(auto) { host.auto = revive(auto); },
    of(type) { return host.posted.filter((m) => m.type === type); },
    respond(m) {
      const a = host.auto;
      if (!a || m.type === 'ready') return;
      const reply = (r) => setTimeout(() => window.postMessage(r, '*'), 5);
      if (m.type === 'listEpisodes' && a.total) {
        const episodes = [];
        for (let i = m.from; i < Math.min(a.total, m.from + m.count); i++) {
          const classes = [11 + (i % 5), 11 + ((i + 2) % 5)];
          episodes.push({ id: `r0e${i}`, run: 0, index: i, classes, supports: [[`s${i}a`], [`s${i}b`]], queries: [`q${i}`], key: `k${i}` });
        }
        reply({ type: 'episodes', inReplyTo: m.id, from: m.from, total: a.total, episodes });
      } else if (m.type === 'openEpisode' && a.episodeView) {
        const view = JSON.parse(JSON.stringify({ ...a.episodeView, supports: [], queries: [] }));
        // keep the Uint8Arrays (JSON would turn them into objects): copy the payload arrays by hand
        view.supports = a.episodeView.supports;
        view.queries = a.episodeView.queries;
        view.episode = { ...a.episodeView.episode, id: m.episodeId };
        reply({ type: 'episode', inReplyTo: m.id, view });
      } else if (a.ack && m.id !== undefined && !['listEpisodes', 'openEpisode'].includes(m.type)) {
        reply({ type: 'ack', inReplyTo: m.id, runId: m.type === 'startTraining' ? 'run-1' : undefined });
      }
    },
  };
  window.__host = host;
  window.acquireVsCodeApi = function () {
    host.acquired++;
    return {
      postMessage(m) {
        // relay: a bench forwards every message to a real host outside the page (nothing recorded here)
        if (host.relay) return host.relay(m);
        host.posted.push(JSON.parse(JSON.stringify(m)));
        host.respond(m);
      },
      getState() {
        const s = sessionStorage.getItem(KEY);
        return s ? JSON.parse(s) : undefined;
      },
      setState(s) {
        host.setStateCalls++;
        sessionStorage.setItem(KEY, JSON.stringify(s));
      },
    };
  };
})();
