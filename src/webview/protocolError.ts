// The error both protocol validators throw (protocol.ts and labelProtocol.ts): its own file so the two
// can share it without importing each other.
export class WebviewProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebviewProtocolError';
  }
}
