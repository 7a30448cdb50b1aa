// The read-only view (/v/{id}, or /view.html?doc={id}): polls the document's snapshot
// and shows its text. It opens no WebSocket and offers no editing.

import { documentIdFromLocation, editorPath } from "./links.js";

const POLL_INTERVAL_MS = 2000;

const elements = {
  title: document.getElementById("title"),
  status: document.getElementById("status"),
  content: document.getElementById("content"),
  editLink: document.getElementById("edit-link"),
};

function setStatus(state, text) {
  elements.status.dataset.state = state;
  elements.status.textContent = text;
}

async function fetchJson(path) {
  const response = await fetch(path, { cache: "no-store" });
  if (!response.ok) {
    const error = new Error(`HTTP ${response.status} for ${path}`);
    error.status = response.status;
    throw error;
  }
  return response.json();
}

async function loadTitle(docId) {
  try {
    const { title } = await fetchJson(`/docs/${encodeURIComponent(docId)}`);
    elements.title.textContent = title || "Untitled document";
    document.title = `${title || "Untitled document"} (read-only) · docserver`;
  } catch (error) {
    console.warn(`could not load the title of ${docId}: ${error.message}`);
    elements.title.textContent = docId;
  }
}

async function poll(docId) {
  let revision = null;
  for (;;) {
    try {
      const snapshot = await fetchJson(`/docs/${encodeURIComponent(docId)}/snapshot`);
      if (snapshot.revision !== revision) {
        revision = snapshot.revision;
        elements.content.textContent = snapshot.content;
        elements.content.dataset.revision = String(revision);
      }
      setStatus("live", `Revision ${revision} · checked ${new Date().toLocaleTimeString()}`);
    } catch (error) {
      if (error.status === 404) {
        setStatus("stopped", `There is no document with id ${docId}.`);
        return;
      }
      // Keep the last text on screen and try again at the next poll.
      setStatus("error", `Could not refresh (${error.message}); retrying`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

function main() {
  const docId = documentIdFromLocation(location);
  if (!docId) {
    elements.title.textContent = "No document";
    setStatus("stopped", "The address names no document.");
    return;
  }
  elements.editLink.href = editorPath(docId);
  loadTitle(docId);
  poll(docId);
}

main();
