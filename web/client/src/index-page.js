// The start page: creates a document or opens one by id or address. An address
// /?doc={id} or /#{id} goes straight to that document's editor.

import { documentIdFromInput, documentIdFromLocation, editorPath } from "./links.js";

const elements = {
  createForm: document.getElementById("create-form"),
  title: document.getElementById("new-title"),
  openForm: document.getElementById("open-form"),
  openId: document.getElementById("open-id"),
  error: document.getElementById("error"),
};

function showError(text) {
  elements.error.textContent = text;
  elements.error.hidden = false;
}

async function createDocument(event) {
  event.preventDefault();
  elements.error.hidden = true;
  const button = elements.createForm.querySelector("button");
  button.disabled = true;
  try {
    const response = await fetch("/docs", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ title: elements.title.value.trim() }),
    });
    const body = await response.json();
    if (!response.ok) {
      throw new Error(body.error?.message ?? `HTTP ${response.status}`);
    }
    location.assign(editorPath(body.id));
  } catch (error) {
    showError(`Could not create the document: ${error.message}`);
    button.disabled = false;
  }
}

function openDocument(event) {
  event.preventDefault();
  const id = documentIdFromInput(elements.openId.value);
  if (!id) {
    showError("Enter a document id, such as the last part of an editor address.");
    return;
  }
  location.assign(editorPath(id));
}

const requested = documentIdFromLocation(location);
if (requested) {
  location.replace(editorPath(requested));
} else {
  elements.createForm.addEventListener("submit", createDocument);
  elements.openForm.addEventListener("submit", openDocument);
}
