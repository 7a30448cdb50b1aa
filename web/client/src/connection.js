// The WebSocket to the document server, reopened after every recoverable close.
//
// The connection handles WebSocket close codes and backoff, not the document protocol.
// The page passes each parsed message and each open and close to a DocumentSync.
// `resolveUrl` is called before every attempt, so a router can later send the client
// to whichever server owns the document, and a close with 4410 (document moved)
// calls it again at once.

/** WebSocket close codes the document server uses (docserver/errors.py). */
export const CloseCode = Object.freeze({
  NORMAL: 1000,
  GOING_AWAY: 1001,
  ABNORMAL: 1006,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  MALFORMED_FRAME: 4400,
  NOT_JOINED: 4401,
  DOCUMENT_NOT_FOUND: 4404,
  REPLACED: 4409,
  DOCUMENT_MOVED: 4410,
});

// Closes after which reconnecting cannot help, with the reason shown to the user.
const FATAL_CLOSES = new Map([
  [CloseCode.MALFORMED_FRAME, "the server rejected a malformed message from this page"],
  [CloseCode.NOT_JOINED, "the server rejected this page's first message"],
  [CloseCode.DOCUMENT_NOT_FOUND, "the document does not exist"],
  [CloseCode.REPLACED, "the document was opened with the same client id in another tab or window"],
]);

/**
 * Jittered exponential backoff: attempt n waits a random time between half and all of
 * min(maxMs, initialMs * 2**n), so that clients cut off together do not return together.
 */
export class Backoff {
  constructor({ initialMs = 500, maxMs = 30_000, random = Math.random } = {}) {
    this.initialMs = initialMs;
    this.maxMs = maxMs;
    this.random = random;
    this.attempt = 0;
  }

  /** Returns the delay before the next attempt, in milliseconds, and counts the attempt. */
  next() {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    this.attempt++;
    return ceiling / 2 + this.random() * (ceiling / 2);
  }

  reset() {
    this.attempt = 0;
  }
}

/**
 * A WebSocket that reconnects with backoff.
 *
 * `state` is one of: "idle" (not started), "connecting", "open", "waiting" (a retry
 * is scheduled at `retryAt`), "offline" (closed on purpose until setOffline(false)),
 * or "stopped" (a close that reconnecting cannot fix, explained by `stopReason`).
 * Handlers: onOpen(), onMessage(object), onClose({code, reason}), onStateChange().
 */
export class ReconnectingConnection {
  constructor({
    resolveUrl,
    protocols = undefined,
    backoff = new Backoff(),
    connectTimeoutMs = 10_000,
    WebSocketClass = globalThis.WebSocket,
    timers = globalThis,
    now = () => Date.now(),
    onOpen = () => {},
    onMessage = () => {},
    onClose = () => {},
    onStateChange = () => {},
  }) {
    Object.assign(this, { resolveUrl, protocols, backoff, connectTimeoutMs, now });
    Object.assign(this, { WebSocketClass, timers, onOpen, onMessage, onClose, onStateChange });
    this.state = "idle";
    this.socket = null;
    this.retryTimer = null;
    this.retryAt = null;
    this.connectTimer = null;
    this.stopReason = null;
    this.forcedOffline = false;
    // Bumped on every attempt, so that events of an abandoned socket are ignored.
    this.generation = 0;
  }

  start() {
    if (this.state === "idle") this.connect();
  }

  /** Sends a message as a JSON text frame and returns whether the socket was open. */
  send(message) {
    if (this.state !== "open") return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  /** Drops the current socket, if any, and connects again now. */
  reconnect() {
    if (this.state === "stopped" || this.forcedOffline) return;
    this.dropSocket(CloseCode.NORMAL, "reconnecting");
    this.connect();
  }

  /**
   * Closes the socket and stays disconnected while `offline` is true, as if the
   * network were down. False connects again at once. The editor page exposes this to
   * tests as docserver.simulateOffline.
   */
  setOffline(offline) {
    this.forcedOffline = offline;
    if (this.state === "stopped") return;
    if (offline) {
      this.dropSocket(CloseCode.NORMAL, "offline");
      this.setState("offline");
    } else if (this.state === "offline") {
      this.backoff.reset();
      this.connect();
    }
  }

  /** Reacts to the browser's online and offline events. */
  networkChanged(online) {
    if (this.forcedOffline || this.state === "stopped" || this.state === "idle") return;
    if (online) {
      // A retry that waited for the network should not wait out its backoff too.
      if (this.state !== "open" && this.state !== "connecting") {
        this.backoff.reset();
        this.reconnect();
      }
      return;
    }
    // The socket cannot work without a network, but the browser may take minutes to
    // notice. Retries go on, because the server may run on this machine.
    if (this.state === "open" || this.state === "connecting") {
      this.dropSocket(CloseCode.NORMAL, "network offline");
      this.scheduleRetry();
    }
  }

  /** Resets the backoff once the server accepted the client, not merely the socket. */
  markHealthy() {
    this.backoff.reset();
  }

  /** Closes for good. */
  stop(reason = "closed by the page") {
    this.dropSocket(CloseCode.NORMAL, reason);
    this.stopReason = reason;
    this.setState("stopped");
  }

  // -- internals ----------------------------------------------------------------------------

  setState(state) {
    this.state = state;
    if (state !== "waiting") this.retryAt = null;
    this.onStateChange();
  }

  async connect() {
    this.clearTimers();
    const generation = ++this.generation;
    this.setState("connecting");

    let url;
    try {
      url = await this.resolveUrl();
    } catch (error) {
      if (generation !== this.generation) return;
      console.warn(`could not resolve the document server address: ${error}`);
      this.scheduleRetry();
      return;
    }
    if (generation !== this.generation) return;

    let socket;
    try {
      socket = new this.WebSocketClass(url, this.protocols);
    } catch (error) {
      console.warn(`could not open a WebSocket to ${url}: ${error}`);
      this.scheduleRetry();
      return;
    }
    this.socket = socket;
    const current = () => generation === this.generation;

    this.connectTimer = this.timers.setTimeout(() => {
      if (!current() || this.state !== "connecting") return;
      console.warn(`connection to ${url} timed out after ${this.connectTimeoutMs} ms`);
      this.dropSocket(CloseCode.NORMAL, "connect timeout");
      this.scheduleRetry();
    }, this.connectTimeoutMs);

    socket.onopen = () => {
      if (!current()) return;
      this.timers.clearTimeout(this.connectTimer);
      this.connectTimer = null;
      this.setState("open");
      this.onOpen();
    };
    socket.onmessage = (event) => {
      if (!current()) return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        console.error(`ignoring a frame that is not JSON: ${error}`);
        return;
      }
      // Under load the server sends several messages as one array frame, in order.
      if (Array.isArray(message)) {
        for (const item of message) this.onMessage(item);
      } else {
        this.onMessage(message);
      }
    };
    socket.onclose = (event) => {
      if (!current()) return;
      this.socket = null;
      this.handleClose(event.code, event.reason);
    };
    // An error is always followed by a close event, which does the work.
    socket.onerror = () => {};
  }

  handleClose(code, reason) {
    this.onClose({ code, reason });

    const fatal = FATAL_CLOSES.get(code);
    if (fatal) {
      console.error(`connection closed with code ${code} (${reason}); not reconnecting`);
      this.stopReason = fatal;
      this.setState("stopped");
      return;
    }
    if (this.forcedOffline) {
      this.setState("offline");
      return;
    }
    if (code === CloseCode.DOCUMENT_MOVED && this.backoff.attempt === 0) {
      // Ask resolveUrl for the new owner at once; a second move in a row backs off.
      this.backoff.next();
      this.connect();
      return;
    }
    this.scheduleRetry();
  }

  scheduleRetry() {
    this.clearTimers();
    const delay = this.backoff.next();
    this.retryAt = this.now() + delay;
    this.retryTimer = this.timers.setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
    this.state = "waiting";
    this.onStateChange();
  }

  dropSocket(code, reason) {
    this.generation++;
    this.clearTimers();
    const socket = this.socket;
    this.socket = null;
    if (socket) {
      socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
      try {
        socket.close(code, reason);
      } catch (error) {
        console.warn(`closing the WebSocket failed: ${error}`);
      }
      this.onClose({ code, reason });
    }
  }

  clearTimers() {
    if (this.retryTimer !== null) this.timers.clearTimeout(this.retryTimer);
    if (this.connectTimer !== null) this.timers.clearTimeout(this.connectTimer);
    this.retryTimer = null;
    this.connectTimer = null;
  }
}
