// JSON-RPC 2.0 over the server's WebSocket (/jsonrpc): requests with promises, notifications
// to a handler, reconnection with backoff, and the token for servers that ask for one.

export class RPCError extends Error {
  constructor(error) {
    const detail = typeof error.data === 'string' ? error.data : (error.data && (error.data.detail || error.data.message)) || '';
    super(detail ? `${error.message}: ${detail}` : error.message);
    this.code = error.code;
    this.data = error.data;
  }
}

export class Connection {
  constructor(url, { onOpen, onClose, onNotification, tokenStore }) {
    this.url = url;
    this.onOpen = onOpen;
    this.onClose = onClose;
    this.onNotification = onNotification;
    this.tokenStore = tokenStore;
    this.pending = new Map();
    this.nextID = 1;
    this.backoff = 500;
    this.socket = null;
    this.closedByUs = false;
  }

  open() {
    this.closedByUs = false;
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener('open', async () => {
      this.backoff = 500;
      const token = this.tokenStore.get();
      if (token) {
        try {
          await this.call('Server.Authenticate', { token });
        } catch (error) {
          if (error.code === -32001) this.tokenStore.clear();
        }
      }
      this.onOpen();
    });
    socket.addEventListener('message', (event) => this.receive(event.data));
    socket.addEventListener('close', () => {
      for (const { reject } of this.pending.values()) reject(new Error('the connection to the server closed'));
      this.pending.clear();
      if (this.socket !== socket) return;
      this.onClose();
      if (!this.closedByUs) {
        setTimeout(() => this.open(), this.backoff);
        this.backoff = Math.min(this.backoff * 2, 10000);
      }
    });
  }

  close() {
    this.closedByUs = true;
    if (this.socket) this.socket.close();
  }

  receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    for (const item of Array.isArray(message) ? message : [message]) {
      if (item.method) {
        this.onNotification(item.method, item.params || {});
      } else if (this.pending.has(item.id)) {
        const { resolve, reject } = this.pending.get(item.id);
        this.pending.delete(item.id);
        if (item.error) reject(new RPCError(item.error));
        else resolve(item.result);
      }
    }
  }

  call(method, params = {}) {
    return new Promise((resolve, reject) => {
      if (!this.socket || this.socket.readyState !== WebSocket.OPEN) {
        reject(new Error('not connected to the server'));
        return;
      }
      const id = this.nextID++;
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }
}

// The token, kept in this browser.
export const tokenStore = {
  get: () => localStorage.getItem('tutti.token'),
  set: (token) => localStorage.setItem('tutti.token', token),
  clear: () => localStorage.removeItem('tutti.token'),
};
