// Browser test of the web app against the real `topica` binary and a data directory that the
// CLI prepared (see ../README.md). It trains nothing itself.
//
// Environment:
//   TOPICA_BIN       path to the built `topica` binary.
//   TOPICA_E2E_DATA  data directory with at least one finished run that has a model.
//   TOPICA_SITE_ROOT optional bundle folder, read by `topica serve` (default `<target>/site`).
//   CHROMIUM         optional browser path (default /usr/bin/chromium).

import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const RESULTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'test-results');
const SERVER_START_TIMEOUT_MS = 30_000;
// A debug bundle is several MB of Wasm, so hydration can take a few seconds on a busy machine.
const HYDRATION_TIMEOUT_MS = 30_000;

function requiredEnv(name) {
  const value = process.env[name];
  assert.ok(value, `${name} is not set: see end2end/README.md for how to prepare the test`);
  return value;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it returns 200, and fails early if the server process exits. */
async function waitForHealthy(url, server, output) {
  const deadline = Date.now() + SERVER_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) {
      assert.fail(`topica serve exited with code ${server.exitCode}:\n${output.join('')}`);
    }
    try {
      const response = await fetch(url);
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.fail(`${url} did not answer 200 within ${SERVER_START_TIMEOUT_MS} ms:\n${output.join('')}`);
}

const state = { server: null, context: null, profile: null, baseUrl: null, output: [], runIds: [] };

before(async () => {
  const binary = requiredEnv('TOPICA_BIN');
  const dataDir = requiredEnv('TOPICA_E2E_DATA');

  // The run ids come from the CLI, so the page is checked against a second source.
  const runs = JSON.parse(
    execFileSync(binary, ['runs', '--format', 'json', '--data-dir', dataDir], { encoding: 'utf8' }),
  );
  state.runIds = runs.map((run) => run.run_id);
  assert.ok(state.runIds.length > 0, `topica runs lists no run in ${dataDir}`);

  const port = await freePort();
  state.baseUrl = `http://127.0.0.1:${port}`;
  state.server = spawn(binary, ['serve', '--data-dir', dataDir, '--addr', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  state.server.stdout.on('data', (chunk) => state.output.push(chunk.toString()));
  state.server.stderr.on('data', (chunk) => state.output.push(chunk.toString()));
  await waitForHealthy(`${state.baseUrl}/healthz`, state.server, state.output);

  state.profile = mkdtempSync(join(tmpdir(), 'topica-e2e-chromium-'));
  state.context = await chromium.launchPersistentContext(state.profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
});

after(async () => {
  await state.context?.close();
  if (state.server && state.server.exitCode === null) {
    const exited = new Promise((resolve) => state.server.once('exit', resolve));
    state.server.kill('SIGTERM');
    await exited;
  }
  if (state.profile) rmSync(state.profile, { recursive: true, force: true });
});

/** Returns the number of words each topic card shows, in either layout. */
async function wordsPerTopic(page) {
  return page.$$eval('article.topic', (topics) =>
    topics.map((topic) => topic.querySelectorAll('ol.words li, table.words tbody tr').length),
  );
}

test('run page shows topics and reacts after hydration', async () => {
  const page = await state.context.newPage();
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));

  await page.goto(`${state.baseUrl}/`);
  const runLinks = page.locator('table#runs a.run-link');
  assert.ok((await runLinks.count()) > 0, 'the home page lists no runs');
  const listedIds = await runLinks.allTextContents();
  assert.deepEqual([...listedIds].sort(), [...state.runIds].sort(), 'home page and CLI list different runs');

  // A failed or running run has no model, so the test opens the first finished one.
  const finishedRun = page.locator('table#runs tr:has(.status-finished) a.run-link').first();
  await finishedRun.click();
  await page.waitForURL(/\/runs\//);
  const topicCards = page.locator('article.topic');
  await topicCards.first().waitFor();

  const topicCount = await topicCards.count();
  assert.ok(topicCount > 0, 'the run page shows no topics');
  const firstWords = await topicCards.first().locator('ol.words li .word').allTextContents();
  assert.ok(firstWords.length > 0, 'the first topic shows no words');
  for (const word of firstWords) {
    assert.match(word, /\S/, 'a topic word is blank');
  }
  const weights = await topicCards.first().locator('ol.words li .weight').allTextContents();
  for (const weight of weights) {
    const value = Number(weight);
    assert.ok(value > 0, `weight ${weight} is not positive`);
    assert.ok(value <= 1, `weight ${weight} is above 1`);
  }
  const coherenceRows = await page.locator('table#coherence tbody tr').count();
  assert.ok(coherenceRows > 0, 'the run page shows no coherence');

  await page.locator('main[data-hydrated="true"]').waitFor({ timeout: HYDRATION_TIMEOUT_MS });
  mkdirSync(RESULTS, { recursive: true });
  await page.screenshot({ path: join(RESULTS, 'run.png'), fullPage: true });

  // From here on the page must change without asking the server again.
  const requests = [];
  page.on('request', (request) => requests.push(request.url()));

  const maxWords = Number(await page.locator('#top-words').getAttribute('max'));
  const target = Math.min(3, maxWords);
  const slider = page.locator('#top-words');
  await slider.focus();
  await page.keyboard.press('Home');
  for (let value = 1; value < target; value += 1) {
    await page.keyboard.press('ArrowRight');
  }
  assert.equal(await page.locator('#top-words-value').textContent(), String(target));
  for (const count of await wordsPerTopic(page)) {
    assert.ok(count <= target, `a topic shows ${count} words after choosing ${target}`);
  }
  assert.equal((await wordsPerTopic(page))[0], Math.min(target, firstWords.length));

  const toggle = page.locator('#layout-toggle');
  assert.equal(await toggle.textContent(), 'Show as table');
  await toggle.click();
  assert.equal(await toggle.textContent(), 'Show as bars');
  assert.equal(await page.locator('article.topic table.words').count(), topicCount);
  assert.equal(await page.locator('article.topic ol.words').count(), 0);
  assert.equal((await wordsPerTopic(page))[0], Math.min(target, firstWords.length));
  const tableWords = await topicCards.first().locator('table.words tbody td.word').allTextContents();
  assert.deepEqual(tableWords, firstWords.slice(0, target));
  await page.screenshot({ path: join(RESULTS, 'run-table.png'), fullPage: true });

  assert.deepEqual(requests, [], 'the controls sent requests to the server');
  assert.deepEqual(pageErrors, [], 'the page raised errors');
});
