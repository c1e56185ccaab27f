/**
 * The demo page in a real browser: headless Chromium from Debian, driven by playwright-core.
 * The demo's show runs on the real control plane with Hermod in-process (the harness); the
 * page is served by the demo's page server and polls the local Slack. The test samples what
 * the page shows while the show runs, and checks that messages appear, change colour and
 * count their edits, that thread replies render, and that cluster-supplied text cannot
 * inject HTML. The screenshot is kept as test-artifacts/demo-page.png.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startPageServer, type PageServer } from '../../demo/pageServer.js';
import { COLOURS, rolloutMessage, runShow, SHOW_CHANNELS } from '../../demo/show.js';
import { startHarness, type Harness } from '../support/hermod-harness.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const DEADLINE = 14;

/** What the page shows for one top-level message at one moment. */
interface Seen {
  channel: string;
  text: string;
  colour: string;
  edits: number;
  editedLabel: string;
  replies: number;
}

async function snapshot(page: Page): Promise<Seen[]> {
  return page.$$eval('section.channel article.message.top', (articles) =>
    articles.map((a) => ({
      channel: a.closest('section.channel')?.getAttribute('data-channel') ?? '',
      text: a.querySelector('.text')?.textContent ?? '',
      colour: a.querySelector('.attachment')?.getAttribute('data-color') ?? '',
      edits: Number(a.getAttribute('data-edits')),
      editedLabel: a.querySelector('.edited')?.textContent ?? '',
      replies: a.closest('.entry')?.querySelectorAll('.thread article.message.reply').length ?? 0,
    })),
  );
}

/** The distinct (colour, edits) states the page showed for the message whose text includes `needle`, in order. */
function statesOf(samples: Seen[][], channel: string, needle: string): Array<{ colour: string; edits: number }> {
  const out: Array<{ colour: string; edits: number }> = [];
  for (const sample of samples) {
    const m = sample.find((s) => s.channel === channel && s.text.includes(needle));
    if (m === undefined) continue;
    const last = out.at(-1);
    if (last === undefined || last.colour !== m.colour || last.edits !== m.edits) out.push({ colour: m.colour, edits: m.edits });
  }
  return out;
}

describe('the demo page in headless Chromium', () => {
  let h: Harness;
  let pages: PageServer;
  let context: BrowserContext;
  let userDataDir: string;

  before(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: run scripts/setup-test-env.sh (it installs Debian's chromium package)`);
    }
    h = await startHarness({ channels: [...SHOW_CHANNELS, 'sandbox'], flags: { failingGraceSeconds: 2 }, env: { CLUSTER_NAME: 'demo' } });
    pages = await startPageServer({ slack: h.slack, narration: () => ['page test'] });
    userDataDir = mkdtempSync(join(tmpdir(), 'hermod-chromium-'));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1400, height: 1000 },
    });
  });

  after(async () => {
    await context?.close();
    await pages?.close();
    await h?.stop();
    if (userDataDir !== undefined) rmSync(userDataDir, { recursive: true, force: true });
  });

  it('shows the show as Slack would: messages appear, change colour, count edits; threads render; nothing from the cluster becomes HTML', async () => {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
    });
    page.on('request', (req) => {
      if (!req.url().startsWith(pages.url)) problems.push(`request outside the page server: ${req.url()}`);
    });
    await page.goto(pages.url);
    await page.waitForSelector('#status.live');
    assert.deepEqual(await page.$$eval('section.channel', (s) => s.map((c) => c.getAttribute('data-channel'))), [...SHOW_CHANNELS, 'sandbox']);

    // Slow the first updates in #deploys a little, so that the page (which polls every
    // second) sees the first rollout in progress before it turns green.
    h.slack.faults.slow({ methods: ['chat.update'], channels: ['deploys'], delayMs: 2500, count: 2 });

    const samples: Seen[][] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push(await snapshot(page));
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const show = await runShow(h, { deadlineSeconds: DEADLINE, staggerMs: 500 });
    // One more poll of the page after the last change.
    await new Promise((r) => setTimeout(r, 2500));
    sampling = false;
    await sampler;
    assert.deepEqual(show.failures.map((f) => `${f.scene}: ${f.error.message}`), []);

    // Appear, then update: the first rollout was orange with no edits, then green with edits.
    const frontend = statesOf(samples, 'deploys', 'Deployment frontend (revision 1)');
    assert.equal(frontend[0]?.colour, COLOURS.orange, JSON.stringify(frontend));
    assert.equal(frontend[0]?.edits, 0, JSON.stringify(frontend));
    assert.equal(frontend.at(-1)?.colour, COLOURS.green, JSON.stringify(frontend));
    assert.ok((frontend.at(-1)?.edits ?? 0) > 0, JSON.stringify(frontend));

    // A crash loop: orange, then red (failing, then failed), the edit count going up.
    const crash = statesOf(samples, 'payments', 'Deployment api (revision 2)');
    assert.equal(crash[0]?.colour, COLOURS.orange, JSON.stringify(crash));
    assert.equal(crash.at(-1)?.colour, COLOURS.red, JSON.stringify(crash));
    const edits = crash.map((s) => s.edits);
    assert.deepEqual(edits, [...edits].sort((a, b) => a - b), `edit counts only go up: ${JSON.stringify(crash)}`);
    assert.ok(edits.at(-1)! > edits[0]!, JSON.stringify(crash));

    // The final page agrees with the local Slack, message for message.
    const final = await snapshot(page);
    for (const channel of SHOW_CHANNELS) {
      const inSlack = h.messages(channel);
      const onPage = final.filter((s) => s.channel === channel);
      assert.equal(onPage.length, inSlack.length, `#${channel}: ${onPage.length} messages on the page, ${inSlack.length} in Slack`);
      inSlack.forEach((m, i) => {
        const shown = onPage[i]!;
        assert.equal(shown.colour, (m.attachments?.[0] as { color?: string }).color);
        assert.equal(shown.edits, m.history.length - 1);
        const n = m.history.length - 1;
        assert.equal(shown.editedLabel, n === 0 ? '' : `(edited ${n} time${n === 1 ? '' : 's'})`);
        assert.equal(shown.replies, m.replies.length);
      });
    }

    // Thread replies render under their message (the Pod Security refusal in full).
    const refused = rolloutMessage(h, 'platform', 'node-agent', 1);
    assert.ok(refused !== undefined && refused.replies.length > 0, 'Hermod put the long refusal in a thread');
    const thread = await page.textContent('section[data-channel="platform"] .thread');
    assert.match(thread ?? '', /1 reply/);
    assert.match(thread ?? '', /Failure details for Deployment node-agent \(revision 1\)/);
    assert.match(thread ?? '', /violates PodSecurity "restricted/);

    // Slack formatting: bold field titles, inline code, commit links, the footer.
    const payments = page.locator('section[data-channel="payments"]');
    assert.ok((await payments.locator('strong', { hasText: 'What changed' }).count()) > 0, 'bold *What changed*');
    assert.ok((await payments.locator('code', { hasText: 'payments' }).count()) > 0, 'inline code');
    assert.ok((await payments.locator('a[href^="https://github.com/example-org/shop/commit/"]').count()) > 0, 'commit link');
    assert.ok((await payments.locator('.context').count()) > 0, 'context footer');
    const pull = page.locator('section[data-channel="search"] pre.code-block', { hasText: 'Back-off pulling image "registry.example/search/indexer:7.3.0-typo"' });
    assert.ok((await pull.count()) > 0, 'the kubelet message in a code block, quotes shown as text');

    // Cluster-supplied text is text: Slack's entities and a raw angle token are shown, never run.
    const hostile =
      'Deploy note: &lt;img src=x onerror="window.__owned=1"&gt; and <img src=x onerror="window.__owned=2"> ' +
      '<javascript:window.__owned=3|click me> &amp;lt;b&amp;gt; *fine* `<b>code</b>` <https://example.com/?a=1&amp;b=2|a safe link>';
    const res = await fetch(`${h.slack.url}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.slack.token}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel: 'sandbox', text: hostile }),
    });
    assert.equal(((await res.json()) as { ok: boolean }).ok, true);
    const sandbox = page.locator('section[data-channel="sandbox"] article.message.top .text');
    await sandbox.waitFor({ timeout: 5000 });
    const shown = (await sandbox.textContent()) ?? '';
    assert.ok(shown.includes('<img src=x onerror="window.__owned=1">'), shown);
    assert.ok(shown.includes('&lt;b&gt;'), `"&amp;lt;" is shown as the text "&lt;": ${shown}`);
    assert.ok(shown.includes('click me'), shown);
    assert.equal(await page.locator('#channels img').count(), 0, 'no image element was created');
    assert.equal(await page.locator('a[href^="javascript:"]').count(), 0, 'no javascript: link');
    assert.equal(await page.locator('section[data-channel="sandbox"] a').getAttribute('href'), 'https://example.com/?a=1&b=2');
    assert.equal(await page.locator('section[data-channel="sandbox"] strong').textContent(), 'fine');
    assert.equal(await page.evaluate(() => (globalThis as { __owned?: unknown }).__owned), undefined);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'demo-page.png'), fullPage: true });
    assert.deepEqual(problems, []);
  });
});
