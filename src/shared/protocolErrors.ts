// The errors the protocol validators throw, one class per protocol so a receiver can tell a malformed
// message from any other failure: ProtocolError for the host<->engine messages (engineProtocol.ts,
// engineLabelProtocol.ts), WebviewProtocolError for the host<->webview ones (webviewProtocol.ts,
// webviewLabelProtocol.ts). Their own file so the protocol files can share them without importing
// each other.

export class ProtocolError extends Error {}

export class WebviewProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebviewProtocolError';
  }
}
