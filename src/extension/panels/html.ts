// The webview's HTML shell, as a pure string function so the extension host (node) can use it without
// a DOM. Strict CSP: scripts only with the nonce, styles only from the extension (no 'unsafe-inline':
// the bundle sets styles through the CSSOM and @vscode-elements uses constructable stylesheets, which
// CSP does not block), images from the extension or blob:/data: URLs the bundle makes from PNG bytes.

export interface WebviewHtmlOptions {
  /** webview URI of dist/webview/main.js */
  scriptUri: string;
  /** webview URI of dist/webview/main.css */
  cssUri: string;
  /** fresh per render, [A-Za-z0-9] */
  nonce: string;
  /** webview.cspSource */
  cspSource: string;
  title?: string;
}

const escapeAttr = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function webviewHtml(o: WebviewHtmlOptions): string {
  if (!/^[A-Za-z0-9+/=_-]{16,}$/.test(o.nonce)) throw new Error('webviewHtml: nonce must be ≥ 16 characters of [A-Za-z0-9+/=_-]');
  const csp = [
    "default-src 'none'",
    `img-src ${o.cspSource} blob: data:`,
    `style-src ${o.cspSource}`,
    `font-src ${o.cspSource}`,
    `script-src 'nonce-${o.nonce}'`,
    // not covered by default-src: no <base> may re-point relative URLs, no form may post anywhere
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttr(o.cssUri)}">
<title>${escapeAttr(o.title ?? 'ProtoLab')}</title>
</head>
<body>
<div id="app" class="app"></div>
<script nonce="${escapeAttr(o.nonce)}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>
`;
}

/** A nonce for webviewHtml (uses the platform crypto when the caller has none at hand). */
export function makeNonce(random: (n: number) => Uint8Array = (n) => globalThis.crypto.getRandomValues(new Uint8Array(n))): string {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(random(32), (b) => abc[b % abc.length]).join('');
}
