// Opens a page in headless Chromium through the DevTools protocol (Node's own WebSocket, no
// packages) and prints one JSON line: script errors, requests that left the machine, and what
// the page shows.
//
//   node --experimental-websocket check.mjs svg FILE.svg TERM
//     loads the flame graph, searches for TERM and clicks the widest frame:
//     {"errors":[..],"requests":[..],"frames":N,"matched":"Matched: 12.3%","zoomed":true}
//   node --experimental-websocket check.mjs dhat DH_VIEW.html FILE.json
//     loads valgrind's DHAT viewer and hands it FILE through its file input:
//     {"errors":[..],"requests":[..],"text":"<the viewer's text>"}
//   node --experimental-websocket check.mjs html FILE.html
//     loads our HTML report, counts its tables and the frames drawn in each flame graph, and
//     presses the "bytes" button: {"errors":..,"requests":..,"tables":N,"sections":[ids],
//     "graphs":{"graph-allocations":FRAMES,..},"switched":true}
//
// Chromium is `$CHROMIUM` or `chromium`.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [mode, first, second] = process.argv.slice(2);
const profileDir = mkdtempSync(join(tmpdir(), "alloc-profile-chromium-"));
const browser = spawn(
  process.env.CHROMIUM || "chromium",
  [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--allow-file-access-from-files",
    `--user-data-dir=${profileDir}`,
    "--remote-debugging-port=0",
    "about:blank",
  ],
  { stdio: ["ignore", "ignore", "pipe"] },
);

function finish(result, code) {
  browser.kill("SIGKILL");
  try {
    rmSync(profileDir, { recursive: true, force: true });
  } catch {}
  // Exit once the line is written: a pipe takes 64 KiB at a time.
  process.stdout.write(JSON.stringify(result) + "\n", () => process.exit(code));
}
setTimeout(() => finish({ fatal: "timed out after 60 s" }, 2), 60_000);

const wsUrl = await new Promise((ok, fail) => {
  let err = "";
  browser.stderr.on("data", (d) => {
    err += d;
    const m = err.match(/DevTools listening on (ws:\/\/\S+)/);
    if (m) ok(m[1]);
  });
  browser.on("exit", (c) => fail(new Error(`chromium exited (${c}): ${err}`)));
}).catch((e) => finish({ fatal: String(e) }, 2));

const ws = new WebSocket(wsUrl);
await new Promise((ok) => ws.addEventListener("open", ok));
let nextId = 1;
const pending = new Map();
const listeners = [];
ws.addEventListener("message", (ev) => {
  const msg = JSON.parse(ev.data);
  if (msg.id && pending.has(msg.id)) {
    const { ok, fail } = pending.get(msg.id);
    pending.delete(msg.id);
    msg.error ? fail(new Error(JSON.stringify(msg.error))) : ok(msg.result);
  } else if (msg.method) {
    for (const l of listeners) l(msg);
  }
});
function send(method, params = {}, sessionId) {
  const id = nextId++;
  ws.send(JSON.stringify({ id, method, params, sessionId }));
  return new Promise((ok, fail) => pending.set(id, { ok, fail }));
}

const errors = [];
const requests = [];
const { targetId } = await send("Target.createTarget", { url: "about:blank" });
const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
const s = (method, params) => send(method, params, sessionId);
let loaded;
const loadedPromise = new Promise((ok) => (loaded = ok));
const children = [];
listeners.push((msg) => {
  const p = msg.params;
  if (msg.method === "Target.attachedToTarget") {
    // An out-of-process frame (the report's flame graphs): watch it too.
    children.push(p);
    for (const domain of ["Runtime", "Log", "Network"]) send(`${domain}.enable`, {}, p.sessionId);
    send("Runtime.runIfWaitingForDebugger", {}, p.sessionId);
    return;
  }
  if (msg.method === "Runtime.exceptionThrown") {
    errors.push(p.exceptionDetails.exception?.description || p.exceptionDetails.text);
  } else if (msg.method === "Runtime.consoleAPICalled" && p.type === "error") {
    errors.push(p.args.map((a) => a.value ?? a.description).join(" "));
  } else if (msg.method === "Log.entryAdded" && p.entry.level === "error") {
    errors.push(`${p.entry.text} ${p.entry.url || ""}`.trim());
  } else if (msg.method === "Network.requestWillBeSent") {
    const url = p.request.url;
    if (!url.startsWith("file:") && !url.startsWith("data:") && url !== "about:blank") {
      requests.push(url);
    }
  } else if (msg.method === "Page.loadEventFired" && msg.sessionId === sessionId) {
    loaded();
  }
});
for (const domain of ["Runtime", "Page", "Network", "Log", "DOM"]) await s(`${domain}.enable`);
await s("Target.setAutoAttach", { autoAttach: true, waitForDebuggerOnStart: false, flatten: true });
const evaluate = async (expression) => {
  const r = await s("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
  if (r.exceptionDetails) errors.push(r.exceptionDetails.exception?.description || r.exceptionDetails.text);
  return r.result?.value;
};
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

await s("Page.navigate", { url: pathToFileURL(resolve(first)).href });
await loadedPromise;

if (mode === "svg") {
  const frames = await evaluate(`document.querySelectorAll("#frames > g").length`);
  await evaluate(`search(${JSON.stringify(second)})`);
  const matched = await evaluate(`document.getElementById("matched").textContent`);
  // Click the widest frame that is not the root: the unzoom button appears.
  const zoomed = await evaluate(`(() => {
    const gs = [...document.querySelectorAll("#frames > g")];
    const w = (g) => parseFloat(g.querySelector("rect").getAttribute("width"));
    const root = gs.reduce((a, b) => (w(a) >= w(b) ? a : b));
    const g = gs.filter((x) => x !== root).reduce((a, b) => (w(a) >= w(b) ? a : b));
    g.dispatchEvent(new MouseEvent("click", { bubbles: true }));
    return !document.getElementById("unzoom").classList.contains("hide");
  })()`);
  finish({ errors, requests, frames, matched, zoomed }, 0);
} else if (mode === "dhat") {
  const { root } = await s("DOM.getDocument", {});
  const { nodeId } = await s("DOM.querySelector", { nodeId: root.nodeId, selector: "input[type=file]" });
  await s("DOM.setFileInputFiles", { nodeId, files: [resolve(second)] });
  let text = "";
  for (let i = 0; i < 100; i++) {
    await sleep(100);
    text = await evaluate(`document.body.innerText`);
    if (/PP 1\//.test(text) || /error|Error/.test(text)) break;
  }
  // The root program point and its first children are enough.
  finish({ errors, requests, text: text.slice(0, 20000) }, 0);
} else if (mode === "html") {
  await sleep(1500);
  const tables = await evaluate(`document.querySelectorAll("table").length`);
  const sections = await evaluate(`[...document.querySelectorAll("h2")].map((h) => h.id)`);
  // Frames drawn in each flame graph, read inside the frame (its own process or not).
  const graphs = {};
  const { frameTree } = await s("Page.getFrameTree");
  const count = `document.querySelectorAll("#frames > g").length`;
  for (const child of frameTree.childFrames || []) {
    const id = await evaluate(
      `[...document.querySelectorAll("iframe")].find((f) => f.src === ${JSON.stringify(child.frame.url)})?.id`,
    );
    const { executionContextId } = await s("Page.createIsolatedWorld", { frameId: child.frame.id });
    const r = await s("Runtime.evaluate", { expression: count, contextId: executionContextId, returnByValue: true });
    graphs[id] = r.result.value;
  }
  for (const child of children) {
    const r = await send("Runtime.evaluate", { expression: `[location.href.length, ${count}]`, returnByValue: true }, child.sessionId);
    const id = await evaluate(
      `[...document.querySelectorAll("iframe")].find((f) => f.src.length === ${r.result.value[0]})?.id`,
    );
    graphs[id] = r.result.value[1];
  }
  const switched = await evaluate(`(() => {
    document.querySelector('.switch button[data-weight="bytes"]').click();
    const on = (id) => !document.getElementById(id).classList.contains("off");
    return on("graph-bytes") && !on("graph-allocations");
  })()`);
  finish({ errors, requests, tables, sections, graphs, switched }, 0);
} else {
  finish({ fatal: `unknown mode ${mode}` }, 2);
}
