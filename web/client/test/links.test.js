// Tests of the page addresses in src/links.js.

import assert from "node:assert/strict";
import { test } from "node:test";

import { documentIdFromInput, documentIdFromLocation, webSocketUrl } from "../src/links.js";

const at = (address) => new URL(address, "http://example.test/");

test("id from editor and viewer paths", () => {
  assert.equal(documentIdFromLocation(at("/d/abc_-1")), "abc_-1");
  assert.equal(documentIdFromLocation(at("/v/abc")), "abc");
  assert.equal(documentIdFromLocation(at("/d/abc/")), "abc");
});

test("id from query and fragment", () => {
  assert.equal(documentIdFromLocation(at("/editor.html?doc=q1")), "q1");
  assert.equal(documentIdFromLocation(at("/#h1")), "h1");
  assert.equal(documentIdFromLocation(at("/d/p1?doc=q1")), "p1");
});

test("invalid ids are ignored", () => {
  assert.equal(documentIdFromLocation(at("/")), null);
  assert.equal(documentIdFromLocation(at("/?doc=a%20b")), null);
  assert.equal(documentIdFromLocation(at(`/?doc=${"x".repeat(65)}`)), null);
});

test("id from typed input", () => {
  assert.equal(documentIdFromInput("  abc "), "abc");
  assert.equal(documentIdFromInput("http://host:8080/d/xyz"), "xyz");
  assert.equal(documentIdFromInput("/v/xyz"), "xyz");
  assert.equal(documentIdFromInput("not an id"), null);
});

test("websocket url follows the page scheme", () => {
  assert.equal(webSocketUrl(at("http://h:1/d/x"), "x"), "ws://h:1/docs/x");
  assert.equal(webSocketUrl(new URL("https://h/d/x"), "a b"), "wss://h/docs/a%20b");
});
