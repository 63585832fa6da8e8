// The panel's WebSocket: identifies as role "panel" (so its edits carry
// origin "panel"), reconnects with exponential backoff, and numbers the
// refs of requests.

export function wsUrl(loc = window.location) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = new URLSearchParams(loc.search).get('token');
  return `${scheme}//${loc.host}/_mirrorstate/ws` + (token !== null ? `?token=${encodeURIComponent(token)}` : '');
}

export class Connection {
  // onMessage(msg), onStatus({state, attempt, retryIn, reason})
  constructor({ url, page, onMessage, onStatus }) {
    this.url = url;
    this.page = page;
    this.onMessage = onMessage;
    this.onStatus = onStatus;
    this.ws = null;
    this.attempt = 0;
    this.nextRef = 1;
    this.timer = null;
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
  }

  // Reconnect now (the "retry" button), skipping the backoff wait.
  retry() {
    clearTimeout(this.timer);
    if (this.ws && this.ws.readyState <= 1) return;
    this.open();
  }

  get connected() {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  open() {
    this.status('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url, 'mirrorstate.v1');
    } catch (e) {
      this.scheduleReconnect(String(e.message || e));
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      this.attempt = 0;
      ws.send(JSON.stringify({ type: 'identify', role: 'panel', page: this.page }));
      this.status('open');
    };
    ws.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        console.warn('mirrorstate panel: unparsable message', ev.data);
        return;
      }
      if (msg && typeof msg === 'object') this.onMessage(msg);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) {
        this.status('closed');
        return;
      }
      const reason = ev.code === 1006 ? 'Connection lost'
        : ev.code === 1001 ? 'The server stopped or restarted'
          : `Closed by the server (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`;
      this.scheduleReconnect(reason);
    };
  }

  scheduleReconnect(reason) {
    const delay = Math.min(10000, 250 * 2 ** this.attempt) * (0.8 + Math.random() * 0.4);
    this.attempt++;
    this.status('waiting', { retryIn: delay, reason });
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.open(), delay);
  }

  status(state, extra = {}) {
    this.onStatus({ state, attempt: this.attempt, ...extra });
  }

  // Sends a message; assigns msg.ref unless it has one. Returns the ref,
  // or null when not connected (the message is dropped, never queued:
  // an edit made while offline would apply to a stale state).
  send(msg) {
    if (!this.connected) return null;
    if (msg.ref === undefined && msg.type !== 'subscribe' && msg.type !== 'unsubscribe') {
      msg.ref = `p${this.nextRef++}`;
    }
    this.ws.send(JSON.stringify(msg));
    return msg.ref ?? true;
  }
}
