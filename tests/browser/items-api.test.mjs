// A real browser loads the example stack through the Nimbus gateway: the test starts
// `nimbus serve` on free ports with a fresh data directory, deploys examples/items-api with
// `nimbus deploy`, loads its seed items with `nimbus tables load`, then Debian's chromium
// (driven by playwright-core) opens http://127.0.0.1:<gateway>/items/42 and must show the item.
//
//   NIMBUS_BIN=target/debug/nimbus node --test        (in tests/browser)
//   CHROMIUM=/usr/bin/chromium                          (the default)

import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { mkdtempSync, rmSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { chromium } from "playwright-core";

const run = promisify(execFile);
const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const binary = process.env.NIMBUS_BIN ?? join(repo, "target", "debug", "nimbus");
const browserPath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const example = join(repo, "examples", "items-api");
const STACK = "items-api";

const tmp = mkdtempSync(join(tmpdir(), "nimbus-browser-"));
let server;
let serverExit;
let flags;
let gateway;
let context;

function freePort() {
  return new Promise((done, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => done(port));
    });
  });
}

async function nimbus(...args) {
  try {
    const { stdout } = await run(binary, [...args, ...flags], { timeout: 600_000 });
    return stdout;
  } catch (e) {
    throw new Error(`nimbus ${args.join(" ")} failed:\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
  }
}

function serverLog() {
  try {
    return readFileSync(join(tmp, "serve.log"), "utf8").split("\n").slice(-30).join("\n");
  } catch {
    return "<no log>";
  }
}

before(async () => {
  const listen = `127.0.0.1:${await freePort()}`;
  let gatewayPort = await freePort();
  while (`127.0.0.1:${gatewayPort}` === listen) gatewayPort = await freePort();
  gateway = `127.0.0.1:${gatewayPort}`;
  flags = ["--data-dir", join(tmp, "data"), "--listen", listen, "--gateway", gateway];
  const log = openSync(join(tmp, "serve.log"), "w");
  server = spawn(binary, ["serve", ...flags], { stdio: ["ignore", log, log] });
  serverExit = new Promise((done) => server.once("exit", (code, signal) => done({ code, signal })));

  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`http://${listen}/_nimbus/health`)).ok) break;
    } catch {
      // not listening yet
    }
    assert.equal(server.exitCode, null, `nimbus serve exited:\n${serverLog()}`);
    assert.ok(Date.now() < deadline, `nimbus serve did not become healthy:\n${serverLog()}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  await nimbus("runtimes", "install", "--python");
  await nimbus("deploy", join(example, "template.yaml"), "--stack-name", STACK);
  const table = (
    await nimbus("tables", "list", "--quiet", "--tag", `nimbus:stack-name=${STACK}`,
      "--tag", "nimbus:logical-id=ItemsTable")
  ).trim();
  assert.ok(table, "the deployed stack has a table tagged nimbus:logical-id=ItemsTable");
  await nimbus("tables", "load", table, join(example, "seed.json"));

  context = await chromium.launchPersistentContext(join(tmp, "chromium-profile"), {
    executablePath: browserPath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  await context?.close();
  if (server && server.exitCode === null) {
    server.kill("SIGTERM");
    const { code } = await serverExit;
    assert.equal(code, 0, `nimbus serve exited with ${code} after SIGTERM:\n${serverLog()}`);
  }
  rmSync(tmp, { recursive: true, force: true });
});

test("the browser shows item 42 at the root of the gateway port", async () => {
  const seeded = JSON.parse(readFileSync(join(example, "seed.json"), "utf8")).find(
    (item) => item.id === "42",
  );
  const page = await context.newPage();
  const response = await page.goto(`http://${gateway}/items/42`, { timeout: 120_000 });
  assert.equal(response.status(), 200, await response.text());
  assert.match(response.headers()["content-type"], /^application\/json/);
  const text = await page.locator("body").innerText();
  assert.ok(text.includes(seeded.name), `the page shows ${seeded.name}:\n${text}`);
  assert.ok(text.includes(seeded.description), `the page shows the description:\n${text}`);
  assert.deepEqual(JSON.parse(text), seeded);
  await page.close();
});

test("a missing item is a 404 with a JSON message", async () => {
  const page = await context.newPage();
  const response = await page.goto(`http://${gateway}/items/no-such-item`);
  assert.equal(response.status(), 404);
  const body = JSON.parse(await page.locator("body").innerText());
  assert.equal(body.error, "NotFound");
  await page.close();
});

test("the list shows every seeded item", async () => {
  const seed = JSON.parse(readFileSync(join(example, "seed.json"), "utf8"));
  const page = await context.newPage();
  await page.goto(`http://${gateway}/items`);
  const body = JSON.parse(await page.locator("body").innerText());
  assert.equal(body.count, seed.length);
  assert.deepEqual(body.items.map((i) => i.id).sort(), seed.map((i) => i.id).sort());
  await page.close();
});
