// Addresses of the pages and endpoints of one document.
//
// The editor lives at /d/{id} and the read-only view at /v/{id}. Both pages also
// accept ?doc={id}, so /editor.html?doc={id} and /view.html?doc={id} work on a
// server that serves only the static files.

const DOCUMENT_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/** Returns whether `id` has the form the server accepts for document ids. */
export function isDocumentId(id) {
  return DOCUMENT_ID.test(id);
}

export function editorPath(id) {
  return `/d/${encodeURIComponent(id)}`;
}

export function viewerPath(id) {
  return `/v/${encodeURIComponent(id)}`;
}

/** Returns the WebSocket URL of a document on the server that served `location`. */
export function webSocketUrl(location, id) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/docs/${encodeURIComponent(id)}`;
}

/**
 * Returns the document id named by a page address, or null.
 *
 * Accepts a path /d/{id} or /v/{id}, a query ?doc={id} and a fragment #{id}, in
 * that order of preference.
 */
export function documentIdFromLocation(location) {
  const match = /^\/[dv]\/([^/]+)\/?$/.exec(location.pathname);
  const candidates = [
    match ? decodeURIComponent(match[1]) : null,
    new URLSearchParams(location.search).get("doc"),
    location.hash ? decodeURIComponent(location.hash.slice(1)) : null,
  ];
  return candidates.find((id) => id && isDocumentId(id)) ?? null;
}

/**
 * Returns the document id in what a user typed: a bare id or any address that
 * documentIdFromLocation understands. Returns null for anything else.
 */
export function documentIdFromInput(text) {
  const value = text.trim();
  if (isDocumentId(value)) return value;
  try {
    return documentIdFromLocation(new URL(value, "http://localhost/"));
  } catch {
    return null;
  }
}
