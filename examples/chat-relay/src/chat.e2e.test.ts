// The example end to end, in headless Chromium (Debian's `chromium`; .ci/run installs it): the page
// streams a reply, survives a reload mid-reply, stops a run, and never talks to the Runtime.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntimeClient, type RuntimeClient } from '@worker-runtime/http';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExampleProcess, startExample } from './test-support/example-process.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Screenshots go to the temp dir, never into the repository. */
const SCREENSHOT_DIR = join(tmpdir(), 'chat-relay-e2e');

const token = randomBytes(24).toString('base64url');
let example: ExampleProcess;
let operator: RuntimeClient;
let context: BrowserContext;
let userDataDir: string;
const requests: { url: string; headers: Promise<string> }[] = [];
/** Every message the page's EventSource received, as the browser recorded it. */
const streamMessages: { event: string; data: string }[] = [];
const responses: { url: string; headers: Promise<string>; body: Promise<string | null> }[] = [];

/** A 404 `route_not_found` or a 405 on the run stream route means this Runtime predates SPEC §12. */
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)`);
  example = await startExample(token);
  operator = createRuntimeClient({ baseUrl: example.runtimeUrl, token });
  userDataDir = mkdtempSync(join(tmpdir(), 'chat-relay-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  context.on('request', (request) =>
    requests.push({ url: request.url(), headers: request.allHeaders().then(JSON.stringify, () => '') }),
  );
  context.on('response', (response) => {
    // Read every body as it finishes; a stream the page closed early may have none to give.
    responses.push({
      url: response.url(),
      headers: response.allHeaders().then(JSON.stringify, () => ''),
      body: response.text().catch(() => null),
    });
  });
}, 60_000);

afterAll(async () => {
  await context?.close();
  await example?.stop();
  if (userDataDir !== undefined) rmSync(userDataDir, { recursive: true, force: true });
});

async function openPage(): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  // Playwright cannot read an event stream's body; the browser's own record of its messages can.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  cdp.on('Network.eventSourceMessageReceived', ({ eventName, data }) =>
    streamMessages.push({ event: eventName, data }),
  );
  await page.goto(example.relayUrl);
  return { page, problems };
}

function words(count: number, tag: string): string {
  return Array.from({ length: count }, (_, i) => `${tag}${i}`).join(' ');
}

/** Samples the last reply's text until `stop` says so; returns every distinct value seen, in order. */
async function sampleReply(page: Page, stop: (text: string, status: string | null) => boolean): Promise<string[]> {
  const seen: string[] = [];
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const reply = page.locator('li.assistant').last();
    // Status first: the page may handle more messages between the two reads, and the text read
    // after a final status is the final text (the other order could pair it with older text).
    const status = (await reply.count()) === 0 ? null : await reply.getAttribute('data-status');
    const text = (await reply.count()) === 0 ? '' : ((await reply.locator('.reply').textContent()) ?? '');
    if (seen.at(-1) !== text) seen.push(text);
    if (stop(text, status)) return seen;
    await page.waitForTimeout(15);
  }
  throw new Error(`the reply did not get there in time; seen: ${JSON.stringify(seen.slice(-3))}`);
}

async function send(page: Page, text: string): Promise<void> {
  await page.locator('#message').fill(text);
  await page.locator('#send').click();
}

describe('the chat page in a browser', () => {
  it('loads under its CSP without errors and shows an empty conversation', async () => {
    const { page, problems } = await openPage();
    await expect.poll(() => page.locator('#send').isEnabled()).toBe(true);
    expect(await page.locator('#messages li').count()).toBe(0);
    expect(await page.locator('#stop').isDisabled()).toBe(true);
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'empty.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('streams a reply, resumes it after a reload, stops a run, and never reaches the Runtime', async () => {
    const { page, problems } = await openPage();

    // 1. The reply grows in several steps.
    const first = words(40, 'w');
    await send(page, first);
    const full = `echo: ${first}`;
    const beforeReload = await sampleReply(page, (text) => text.split(' ').length >= 8);
    expect(beforeReload.filter((text) => text !== '').length).toBeGreaterThanOrEqual(3);
    const shown = beforeReload.at(-1) ?? '';
    expect(shown.length).toBeLessThan(full.length);

    // 2. A reload mid-reply picks it up where it was and completes it, with no gap and no repeat.
    await page.reload();
    const afterReload = await sampleReply(page, (_text, status) => status === 'completed');
    for (const text of [...beforeReload, ...afterReload]) expect(full.startsWith(text), text).toBe(true);
    expect(afterReload.at(-1)).toBe(full);
    const resumed = afterReload.filter((text) => text !== '');
    expect(resumed[0]?.length).toBeGreaterThanOrEqual(shown.length);
    expect(resumed.length).toBeGreaterThanOrEqual(2);
    // The deltas alone built the reply: the page did not have to fall back to the stored one.
    expect(await page.locator('li.assistant').last().getAttribute('data-repaired')).toBeNull();
    expect(await page.locator('li.user').allTextContents()).toEqual([first]);
    expect(await page.locator('li.assistant').count()).toBe(1);

    // 3. Stop cancels the run; the page keeps what was said so far.
    const second = words(60, 's');
    await send(page, second);
    await sampleReply(page, (text) => text.split(' ').length >= 4);
    await page.locator('#stop').click();
    const stopped = await sampleReply(page, (_text, status) => status === 'cancelled');
    const partial = stopped.at(-1) ?? '';
    expect(`echo: ${second}`.startsWith(partial)).toBe(true);
    expect(partial.length).toBeLessThan(`echo: ${second}`.length);
    expect(await page.locator('li.assistant').last().locator('.run-status').textContent()).toBe(
      'cancelled: stopped from the chat page',
    );
    await expect.poll(() => page.locator('#send').isEnabled()).toBe(true);
    const { workers } = await operator.listWorkers({ limit: 100 });
    const sessionWorker = workers.find((worker) => worker.transcript_len > 0 && worker.status !== 'stopped');
    const runs = (await operator.listRuns(sessionWorker?.worker_id ?? '')).runs;
    expect(runs.map((run) => run.status)).toEqual(['completed', 'cancelled']);

    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'chat.png'), fullPage: true });
    expect(problems).toEqual([]);

    // 4. Everything the browser did went to the relay, and nothing it got carries the token.
    const relayOrigin = new URL(example.relayUrl).origin;
    const runtimePort = new URL(example.runtimeUrl).port;
    expect(requests.length).toBeGreaterThan(0);
    for (const request of requests) {
      expect(new URL(request.url).origin, request.url).toBe(relayOrigin);
      expect(new URL(request.url).port).not.toBe(runtimePort);
      expect(await request.headers).not.toContain(token);
    }
    let bodiesRead = 0;
    for (const { url, headers, body } of responses) {
      expect(await headers, url).not.toContain(token);
      const text = await body;
      if (text === null) continue;
      bodiesRead += 1;
      expect(text, url).not.toContain(token);
      expect(text, url).not.toContain(example.runtimeUrl);
    }
    expect(new Set(streamMessages.map((message) => message.event))).toEqual(new Set(['delta', 'done']));
    for (const { data } of streamMessages) {
      expect(data).not.toContain(token);
      expect(data).not.toContain(example.runtimeUrl);
    }
    expect(bodiesRead).toBeGreaterThanOrEqual(4);
    expect(await page.content()).not.toContain(token);
    for (const cookie of await context.cookies()) expect(cookie.value).not.toContain(token);
    await page.close();
  });
});
