// The CodeMirror 6 side of collaboration: converts between CodeMirror changes, whose
// positions are UTF-16 offsets, and operations, whose positions are code points, and
// draws the other editors' cursors and selections.
//
// This is the only place where UTF-16 offsets meet code point positions.

import { Annotation, Compartment, EditorState, StateEffect, Transaction } from "@codemirror/state";
import { Decoration, EditorView, ViewPlugin, WidgetType } from "@codemirror/view";

import { InvalidOperation, ErrorKind, normalize } from "./ot.js";
import {
  advanceCodePoints,
  codePointLength,
  findLoneSurrogate,
  hasSurrogates,
  splitsSurrogatePair,
} from "./unicode.js";

/** Marks a transaction that applies the server's operation, which must not be sent back. */
export const remoteChange = Annotation.define();

const presenceChanged = StateEffect.define();

const COLOR = /^#[0-9a-fA-F]{6}$/;

function splitsPairAt(doc, offset) {
  if (offset <= 0 || offset >= doc.length) return false;
  return splitsSurrogatePair(doc.sliceString(offset - 1, offset + 1), 1);
}

// -- positions -----------------------------------------------------------------------------

/** Returns the code point position of UTF-16 offset `offset` in `doc`. */
export function offsetToCodePoint(doc, offset) {
  return codePointLength(doc.sliceString(0, offset));
}

/**
 * Returns the UTF-16 offset `count` code points after UTF-16 offset `from` in `doc`,
 * or -1 when the document ends before that.
 */
export function advanceInDoc(doc, from, count) {
  // count code points take between count and 2 * count UTF-16 units.
  const slice = doc.sliceString(from, Math.min(doc.length, from + 2 * count));
  if (!hasSurrogates(slice)) return count <= slice.length ? from + count : -1;
  const end = advanceCodePoints(slice, 0, count);
  return end < 0 ? -1 : from + end;
}

/** Returns the UTF-16 offset of code point position `position`, clamped to the document. */
export function codePointToOffset(doc, position) {
  const offset = advanceInDoc(doc, 0, position);
  return offset < 0 ? doc.length : offset;
}

// -- changes and operations ----------------------------------------------------------------

/** Returns the operation, in code points, that makes the same edit as `changes` on `doc`. */
export function changesToOperation(changes, doc) {
  const parts = [];
  let position = 0;
  changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => {
    if (fromA > position) parts.push(codePointLength(doc.sliceString(position, fromA)));
    const text = inserted.toString();
    if (text) parts.push(text);
    if (toA > fromA) parts.push(-codePointLength(doc.sliceString(fromA, toA)));
    position = toA;
  });
  if (doc.length > position) parts.push(codePointLength(doc.sliceString(position)));
  return normalize(parts);
}

/**
 * Returns CodeMirror change specs, in UTF-16 offsets of `doc`, that apply `op`.
 * Throws InvalidOperation when the base length of `op` is not the length of `doc`.
 */
export function operationToChanges(op, doc) {
  const changes = [];
  let offset = 0;
  let position = 0;
  for (const part of op) {
    if (typeof part === "string") {
      changes.push({ from: offset, insert: part });
      continue;
    }
    const count = Math.abs(part);
    const end = advanceInDoc(doc, offset, count);
    if (end < 0) {
      throw new InvalidOperation(
        `operation goes past the end of the document at position ${position + count}`,
        ErrorKind.LENGTH_MISMATCH,
      );
    }
    if (part < 0) changes.push({ from: offset, to: end });
    offset = end;
    position += count;
  }
  if (offset !== doc.length) {
    throw new InvalidOperation(
      `operation has base length ${position} but the document is longer`,
      ErrorKind.LENGTH_MISMATCH,
    );
  }
  return changes;
}

// The editor counts UTF-16 units, so a change could start or end between the halves
// of a surrogate pair (its DOM diff compares units). Such a change is widened to the
// whole pair, which leaves the resulting document the same but keeps every boundary on
// a code point. A lone surrogate, which the server rejects, becomes U+FFFD.
export const surrogateSafeChanges = EditorState.transactionFilter.of((tr) => {
  if (!tr.docChanged || tr.annotation(remoteChange)) return tr;
  const doc = tr.startState.doc;
  let repaired = false;
  let overlapping = false;
  const specs = [];
  tr.changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => {
    let from = fromA;
    let to = toA;
    let text = inserted.toString();
    if (splitsPairAt(doc, fromA)) {
      from--;
      text = doc.sliceString(from, fromA) + text;
    }
    if (splitsPairAt(doc, toA)) {
      to++;
      text += doc.sliceString(toA, to);
    }
    if (findLoneSurrogate(text)) text = text.toWellFormed();
    repaired ||= from !== fromA || to !== toA || text !== inserted.toString();
    if (specs.length && from < specs[specs.length - 1].to) overlapping = true;
    specs.push({ from, to, insert: text });
  });
  if (!repaired) return tr;
  if (overlapping) {
    console.warn("dropping an edit whose changes split surrogate pairs and overlap");
    return [];
  }
  const userEvent = tr.annotation(Transaction.userEvent);
  return {
    changes: specs,
    selection: tr.selection,
    effects: tr.effects,
    scrollIntoView: tr.scrollIntoView,
    annotations: userEvent ? [Transaction.userEvent.of(userEvent)] : [],
  };
});

// -- remote cursors -------------------------------------------------------------------------

class RemoteCaret extends WidgetType {
  constructor(client, name, color) {
    super();
    this.client = client;
    this.name = name;
    this.color = color;
  }

  eq(other) {
    return other.client === this.client && other.name === this.name && other.color === this.color;
  }

  toDOM() {
    const caret = document.createElement("span");
    caret.className = "cm-remote-caret";
    caret.dataset.client = this.client;
    caret.style.borderLeftColor = this.color;
    const label = document.createElement("span");
    label.className = "cm-remote-name";
    label.textContent = this.name;
    label.style.backgroundColor = this.color;
    caret.appendChild(label);
    return caret;
  }

  ignoreEvent() {
    return true;
  }
}

function buildDecorations(doc, peers) {
  const ranges = [];
  for (const peer of peers) {
    if (!peer.selection) continue;
    const color = COLOR.test(peer.color) ? peer.color : "#7f7f7f";
    const anchor = codePointToOffset(doc, peer.selection.anchor);
    const head = codePointToOffset(doc, peer.selection.head);
    if (anchor !== head) {
      const mark = Decoration.mark({
        class: "cm-remote-selection",
        attributes: { style: `background-color: ${color}33`, "data-client": peer.client },
      });
      ranges.push(mark.range(Math.min(anchor, head), Math.max(anchor, head)));
    }
    const caret = Decoration.widget({ widget: new RemoteCaret(peer.client, peer.name, color), side: -1 });
    ranges.push(caret.range(head));
  }
  return Decoration.set(ranges, true);
}

// -- the binding ---------------------------------------------------------------------------

/**
 * A CodeMirror view bound to a DocumentSync, with the editor interface DocumentSync
 * expects. Set `sync` before the first change.
 */
export class CodeMirrorBinding {
  constructor({ parent, extensions = [] }) {
    this.sync = null;
    this.editable = new Compartment();
    const binding = this;

    const collaboration = ViewPlugin.fromClass(
      class {
        constructor(view) {
          this.decorations = buildDecorations(view.state.doc, binding.peers());
        }

        update(update) {
          let userSelection = false;
          for (const tr of update.transactions) {
            const remote = tr.annotation(remoteChange) === true;
            if (tr.docChanged && !remote) binding.recordLocalChange(tr);
            if (!remote && (tr.selection || tr.docChanged)) userSelection = true;
          }
          const redraw =
            update.docChanged ||
            update.transactions.some((tr) => tr.effects.some((e) => e.is(presenceChanged)));
          if (redraw) this.decorations = buildDecorations(update.state.doc, binding.peers());
          if (userSelection) binding.sync.localSelectionChanged();
        }
      },
      { decorations: (plugin) => plugin.decorations },
    );

    this.view = new EditorView({
      parent,
      state: EditorState.create({
        doc: "",
        extensions: [
          // Only "\n" separates lines, so "\r" stays in the text and offsets match the server.
          EditorState.lineSeparator.of("\n"),
          this.editable.of(editableExtensions(false)),
          surrogateSafeChanges,
          collaboration,
          extensions,
        ],
      }),
    });
  }

  peers() {
    return this.sync ? this.sync.presence.list() : [];
  }

  // Each transaction has its own start document, so each becomes one edit. An error must
  // not escape, because CodeMirror turns off a view plugin whose update throws.
  recordLocalChange(tr) {
    try {
      this.sync.localChange(changesToOperation(tr.changes, tr.startState.doc));
    } catch (error) {
      console.error("could not record a local edit; reloading the document", error);
      this.sync.resync(`a local edit could not be recorded (${error.message})`);
    }
  }

  // -- the editor interface of DocumentSync --------------------------------------------------

  getContent() {
    return this.view.state.doc.toString();
  }

  /** Replaces the content, changing only the middle part that differs. */
  setContent(text) {
    const doc = this.view.state.doc;
    const current = doc.toString();
    if (current === text) return;

    let start = 0;
    const shorter = Math.min(current.length, text.length);
    while (start < shorter && current.charCodeAt(start) === text.charCodeAt(start)) start++;
    let end = 0;
    while (
      end < shorter - start &&
      current.charCodeAt(current.length - 1 - end) === text.charCodeAt(text.length - 1 - end)
    ) {
      end++;
    }
    this.dispatchRemote({
      changes: { from: start, to: current.length - end, insert: text.slice(start, text.length - end) },
    });
  }

  applyRemote(op) {
    const changes = operationToChanges(op, this.view.state.doc);
    if (changes.length) this.dispatchRemote({ changes });
  }

  getSelection() {
    const { anchor, head } = this.view.state.selection.main;
    const doc = this.view.state.doc;
    return { anchor: offsetToCodePoint(doc, anchor), head: offsetToCodePoint(doc, head) };
  }

  setEditable(flag) {
    this.view.dispatch({ effects: this.editable.reconfigure(editableExtensions(flag)) });
  }

  presenceChanged() {
    this.view.dispatch({ effects: presenceChanged.of(null) });
  }

  dispatchRemote(spec) {
    this.view.dispatch({
      ...spec,
      annotations: [remoteChange.of(true), Transaction.addToHistory.of(false)],
    });
  }
}

function editableExtensions(flag) {
  return [EditorView.editable.of(flag), EditorState.readOnly.of(!flag)];
}
