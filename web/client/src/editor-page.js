// The editor page (/d/{id}, or /editor.html?doc={id}): a CodeMirror editor kept in sync
// with the document server, with the title, the editors present and the connection state.
//
// window.docserver exposes the parts to tests and to the console: for example
// docserver.simulateOffline(true) closes the connection and keeps it closed, and
// docserver.text() returns the editor's content.

import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import {
  EditorView,
  drawSelection,
  highlightActiveLine,
  highlightSpecialChars,
  keymap,
  lineNumbers,
} from "@codemirror/view";

import { CodeMirrorBinding } from "./codemirror.js";
import { ReconnectingConnection } from "./connection.js";
import { documentIdFromLocation, viewerPath, webSocketUrl } from "./links.js";
import { DocumentSync, randomToken } from "./sync.js";

// The server's palette for editors that choose no colour (docserver/session.py).
const PALETTE = [
  "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
  "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
];

const elements = {
  title: document.getElementById("title"),
  status: document.getElementById("status"),
  presence: document.getElementById("presence"),
  name: document.getElementById("name"),
  notice: document.getElementById("notice"),
  editor: document.getElementById("editor"),
  viewLink: document.getElementById("view-link"),
};

function storage(kind) {
  try {
    return window[kind];
  } catch {
    return null; // storage disabled by the browser's settings
  }
}

// Reads a stored value, creating it with `make` when missing. The client id lives in
// sessionStorage, so a reload keeps it but another tab gets its own.
function stored(kind, key, make) {
  const store = storage(kind);
  let value = store?.getItem(key);
  if (!value) {
    value = make();
    store?.setItem(key, value);
  }
  return value;
}

function identity() {
  const params = new URLSearchParams(location.search);
  const clientId = stored("sessionStorage", "docserver.clientId", () => `c-${randomToken(12)}`);
  const color = stored(
    "sessionStorage",
    "docserver.color",
    () => PALETTE[Math.floor(Math.random() * PALETTE.length)],
  );
  const name =
    params.get("name") ||
    stored("localStorage", "docserver.name", () => `Guest ${randomToken(3).toUpperCase()}`);
  return { clientId, color, name: name.slice(0, 100) };
}

async function showTitle(docId) {
  try {
    const response = await fetch(`/docs/${encodeURIComponent(docId)}`, { cache: "no-store" });
    if (response.status === 404) return false;
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const { title } = await response.json();
    elements.title.textContent = title || "Untitled document";
    document.title = `${title || "Untitled document"} · docserver`;
  } catch (error) {
    console.warn(`could not load the title of ${docId}: ${error}`);
    elements.title.textContent = docId;
  }
  return true;
}

function plural(count, word) {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

function renderStatus(connection, sync) {
  const unsent = sync.unconfirmedCount;
  const everJoined = sync.client !== null;
  let state;
  let text;
  switch (connection.state) {
    case "open":
      state = sync.joined ? "connected" : "connecting";
      text = sync.joined ? "Connected" : "Joining…";
      break;
    case "waiting": {
      const seconds = Math.max(1, Math.ceil((connection.retryAt - Date.now()) / 1000));
      // navigator.onLine is only a hint, because it can be true while the server is unreachable.
      state = navigator.onLine === false ? "offline" : "reconnecting";
      text = `${state === "offline" ? "Offline, retrying" : "Reconnecting"} in ${seconds} s`;
      break;
    }
    case "offline":
      state = "offline";
      text = "Offline";
      break;
    case "stopped":
      state = "stopped";
      text = `Disconnected: ${connection.stopReason}`;
      break;
    default:
      // A connection attempt is under way; while the browser reports no network it is
      // still offline as far as the user is concerned.
      if (navigator.onLine === false) {
        state = "offline";
        text = "Offline, connecting…";
      } else {
        state = everJoined ? "reconnecting" : "connecting";
        text = everJoined ? "Reconnecting…" : "Connecting…";
      }
  }
  if (unsent) {
    text += state === "connected" ? ` · saving ${plural(unsent, "edit")}` : ` · ${plural(unsent, "unsent edit")}`;
  }
  elements.status.dataset.state = state;
  elements.status.dataset.unsent = String(unsent);
  elements.status.textContent = text;
}

function renderPresence(sync, self) {
  const items = [{ ...self, client: self.clientId, you: true }, ...sync.presence.list()];
  elements.presence.replaceChildren(
    ...items.map((editor) => {
      const item = document.createElement("li");
      item.dataset.client = editor.client;
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.backgroundColor = editor.color;
      item.append(swatch, editor.you ? `${editor.name} (you)` : editor.name);
      return item;
    }),
  );
}

function showNotice(notice) {
  if (notice.kind !== "edits-lost") return;
  const box = elements.notice;
  const message = document.createElement("p");
  message.textContent =
    `${plural(notice.count, "unsent edit")} could not be merged because ${notice.reason}. ` +
    "The editor now shows the server's version.";
  const details = document.createElement("details");
  const summary = document.createElement("summary");
  summary.textContent = "Show your version";
  const text = document.createElement("textarea");
  text.readOnly = true;
  text.value = notice.text ?? "";
  details.append(summary, text);
  const dismiss = document.createElement("button");
  dismiss.type = "button";
  dismiss.textContent = "Dismiss";
  dismiss.addEventListener("click", () => {
    box.hidden = true;
  });
  box.replaceChildren(message, details, dismiss);
  box.hidden = false;
}

async function main() {
  const docId = documentIdFromLocation(location);
  if (!docId) {
    elements.title.textContent = "No document";
    elements.status.textContent = "The address names no document. Open one from the start page.";
    elements.status.dataset.state = "stopped";
    return;
  }
  elements.viewLink.href = viewerPath(docId);
  if (!(await showTitle(docId))) {
    elements.title.textContent = "Document not found";
    elements.status.textContent = `There is no document with id ${docId}.`;
    elements.status.dataset.state = "stopped";
    return;
  }

  const self = identity();
  elements.name.value = self.name;

  const binding = new CodeMirrorBinding({
    parent: elements.editor,
    extensions: [
      lineNumbers(),
      highlightSpecialChars(),
      history(),
      drawSelection(),
      highlightActiveLine(),
      EditorView.lineWrapping,
      keymap.of([...defaultKeymap, ...historyKeymap]),
      EditorView.contentAttributes.of({ "aria-label": "Document text" }),
    ],
  });

  let sync = null;
  const update = () => {
    renderStatus(connection, sync);
    renderPresence(sync, self);
  };
  const connection = new ReconnectingConnection({
    // A router can replace this to send the client to the server that owns the document.
    resolveUrl: async () => webSocketUrl(location, docId),
    onOpen: () => sync.connectionOpened(),
    onMessage: (message) => sync.receive(message),
    onClose: (event) => sync.connectionClosed(event),
    onStateChange: () => {
      update();
      // Edits made now could never be sent. The change waits for a microtask, because
      // CodeMirror rejects a dispatch while it is updating.
      if (connection.state === "stopped") queueMicrotask(() => binding.setEditable(false));
    },
  });
  sync = new DocumentSync({
    clientId: self.clientId,
    name: self.name,
    color: self.color,
    transport: connection,
    editor: binding,
    onChange: update,
    onNotice: showNotice,
  });
  binding.sync = sync;

  elements.name.addEventListener("change", () => {
    const name = elements.name.value.trim().slice(0, 100) || self.name;
    elements.name.value = name;
    self.name = sync.name = name;
    storage("localStorage")?.setItem("docserver.name", name);
    // Other editors learn a name from the `joined` message, so join again.
    // NOTE: when the new join reaches the server before it processes the old connection's close,
    // the server takes it for a rejoin, sends no `joined`, and others keep the old name.
    connection.reconnect();
    update();
  });
  window.addEventListener("online", () => connection.networkChanged(true));
  window.addEventListener("offline", () => connection.networkChanged(false));
  // Keeps the "Reconnecting in N s" countdown current.
  setInterval(() => {
    if (connection.state === "waiting") update();
  }, 1000);

  window.docserver = {
    docId,
    clientId: self.clientId,
    view: binding.view,
    sync,
    connection,
    text: () => binding.getContent(),
    simulateOffline: (offline) => connection.setOffline(offline),
    disconnect: () => connection.reconnect(),
  };

  update();
  connection.start();
}

main();
