import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailMessage } from '../../src/cli/email-records.ts';
import { createApp } from '../../src/http/app.ts';
import { splitCorpus } from '../../src/replica/corpus.ts';
import { startReplica } from '../../src/replica/server.ts';
import { Service } from '../../src/service.ts';
import {
  createTestTopics,
  deleteTestTopics,
  produce,
  removeQueue,
  type TestTopics,
  testConfig,
  uniqueName,
} from '../support/services.ts';
import { testToken } from './fixtures.ts';

/** Debian's Chromium; playwright-core only drives it (its own browser download is not used). */
const chromiumPath = '/usr/bin/chromium';
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Where the screenshot goes; look at it to check the page reads well. */
const screenshotPath = join(process.env.TOKENLINE_SCREENSHOT_DIR ?? tmpdir(), 'tokenline-page.png');

describe('the operator page in Chromium, on a running service', () => {
  const name = uniqueName('page');
  let topics: TestTopics;
  let replica: Awaited<ReturnType<typeof startReplica>>;
  let service: Service;
  let server: ReturnType<typeof Bun.serve>;
  let userDataDir: string;
  let browser: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    topics = await createTestTopics(name, 2);
    replica = await startReplica({ port: 0, slots: 8, serviceTimeMs: 2 });
    service = new Service(
      testConfig(name, topics, {
        replicas: [{ url: replica.url, slots: 8 }],
        http: { token: testToken },
      }),
    );
    await service.start();
    server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: createApp(service).fetch });
    const emails = splitCorpus().heldOut.slice(0, 40);
    await produce([
      ...emails.map((email) => emailMessage(email, topics.input)),
      { topic: topics.input, key: Buffer.from('k'), value: Buffer.from('{"text": ') },
    ]);

    userDataDir = mkdtempSync(join(tmpdir(), 'tokenline-chromium-'));
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath,
      args: chromiumArgs,
      headless: true,
      viewport: { width: 1400, height: 1100 },
    });
    page = await browser.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await server?.stop(true);
    await service?.stop();
    await replica?.stop();
    if (topics) await deleteTestTopics(topics);
    if (service) await removeQueue(service.config);
  });

  const partitionId = (n: number) => `partition-${topics.input}-${n}`;
  const card = (n: number) => `.card[data-actor="${partitionId(n)}"]`;
  const stateNode = (path: string) => `#diagram [id="state:${path}"]`;

  it('shows the partition actors of the service with their state', async () => {
    await page.goto(server.url.href);
    await page.waitForSelector(card(0));
    await page.waitForSelector(card(1));
    const text = (await page.locator(card(0)).textContent()) ?? '';
    expect(text).toContain(`${topics.input} / 0`);
    expect(text).toMatch(/lag\s*\d+/);
    expect(text).toMatch(/in flight\s*\d+ \/ 256/);
    await page.waitForSelector('#partitions-section h2 small:text("(2)")');
    await page.waitForSelector('#stream[data-level="ok"]');
  });

  it("highlights the followed partition's state, and moves it when the API pauses it", async () => {
    await page.click(card(0));
    await page.waitForSelector(`${stateNode('running.intake.fetching')}.active`);
    expect(await page.locator('#actor-select').inputValue()).toBe(partitionId(0));

    const response = await fetch(new URL(`/actors/${partitionId(0)}/pause`, server.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${testToken}` },
    });
    expect(response.status).toBe(200);

    await page.waitForSelector(`${stateNode('running.intake.held')}.active`);
    expect(await page.locator(`${stateNode('running.intake.fetching')}.active`).count()).toBe(0);
    expect(await page.locator(`${stateNode('running')}.active`).count()).toBe(1);
    await page.waitForSelector(`${card(0)} .state:text("held")`);
    expect(await page.locator(`${card(0)} .paused`).textContent()).toBe('paused by operator');
    await page.waitForSelector('#dead-letters tr.total td:text("1")');
    await page.screenshot({ path: screenshotPath, fullPage: true });
  });

  it("resumes the partition from the card's button once the token is entered", async () => {
    expect(await page.locator(`${card(0)} button[data-do="resume"]`).isDisabled()).toBe(true);
    await page.fill('#token', testToken);
    await page.click('#token-form button[type="submit"]');
    await page.waitForSelector(`${card(0)} button[data-do="resume"]:not([disabled])`);
    await page.click(card(0));
    await page.click(`${card(0)} button[data-do="resume"]`);
    await page.waitForSelector(`${stateNode('running.intake.fetching')}.active`);
    await page.waitForSelector(`${card(0)} .state:text("fetching")`);
  });
});
