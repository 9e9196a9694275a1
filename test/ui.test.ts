import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import type { Report } from '../src/core/report.js';
import { renderScanHtml } from '../src/report/html.js';
import { registryAvailable } from './fixtures/registry.js';
import { scanThroughApi, startServerBed, type ServerBed } from './fixtures/server.js';
import { REPO_ROOT, tempDir } from './helpers.js';

/**
 * The web UI and the HTML report in a real browser: Debian's chromium driven by playwright-core
 * (no browser download). Screenshots go to test-artifacts/ (DISTROLENS_TEST_ARTIFACTS overrides).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = !existsSync(CHROMIUM)
  ? `no chromium at ${CHROMIUM} (run .ci/run)`
  : !registryAvailable()
    ? 'docker-registry not installed (run .ci/run)'
    : false;
const ARTIFACTS = process.env.DISTROLENS_TEST_ARTIFACTS ?? join(REPO_ROOT, 'test-artifacts');
const WAIT = 60_000;
/** The few DOM members the page functions below read (the tests compile without the DOM library). */
interface Dom {
  readonly document: {
    querySelector(selector: string): { readonly textContent: string | null; readonly offsetHeight: number } | null;
    readonly documentElement: { readonly scrollWidth: number };
  };
  readonly location: { readonly hash: string };
}

describe('web UI in chromium', { skip, timeout: 5 * 60_000 }, () => {
  let bed: ServerBed;
  let browser: Browser;
  let page: Page;
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  before(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    bed = await startServerBed();
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });
  after(async () => {
    await browser?.close();
    await bed?.close();
  });

  const scanInUi = async (reference: string) => {
    await page.goto(`${bed.server.url}/#/`);
    await page.fill('#reference', reference);
    await page.click('#scan-button');
    await page.waitForSelector('#jobs .job[data-state="done"], #jobs .job[data-state="failed"]', { timeout: WAIT });
    assert.equal(await page.getAttribute('#jobs .job', 'data-state'), 'done', (await page.textContent('#jobs')) ?? '');
  };

  test('scan an image from the local registry through the UI, watch it finish, open the report', async () => {
    await scanInUi(bed.refs.app1);
    await shot('1-scan-done');
    const repository = `${bed.registry.host}/team/app`;
    await page.waitForSelector(`#images tr[data-repository="${repository}"]`, { timeout: WAIT });
    assert.match((await page.textContent(`#images tr[data-repository="${repository}"]`))!, /minimal|general/);
    await page.click('#jobs .job[data-state="done"] a.open-report');
    await page.waitForSelector('#report-frame');
    const frame = page.frameLocator('#report-frame');
    await frame.locator('h1').waitFor({ timeout: WAIT });
    assert.equal(await frame.locator('h1').textContent(), bed.refs.app1);
    assert.ok((await frame.locator('svg[role="img"]').count()) >= 4, 'the charts are drawn');
    assert.match((await frame.locator('.verdict').textContent())!, /Score \d+\/100/);
    await shot('2-report');
  });

  test('a second scan of the repository shows in its history', async () => {
    await scanInUi(bed.refs.app2);
    await page.goto(`${bed.server.url}/#/image?repo=${encodeURIComponent(`${bed.registry.host}/team/app`)}`);
    await page.waitForSelector('#history-chart');
    const rows = await page.locator('#scans tbody tr').count();
    assert.ok(rows >= 2);
    assert.match((await page.getAttribute('#history-chart', 'data-summary'))!, /grade [A-F].*; .*grade [A-F]/);
    // A chart per series, each on its own scale: axis ticks, a date and a value per scan.
    for (const id of ['#chart-score', '#chart-size', '#chart-vulns']) {
      assert.equal(await page.locator(`${id} text.date`).count(), rows, `${id} dates`);
      assert.equal(await page.locator(`${id} text.value`).count(), rows, `${id} values`);
      assert.ok((await page.locator(`${id} line`).count()) >= 5, `${id} axes and ticks`);
    }
    assert.equal(
      await page.locator('#scans tbody tr:first-child a').count(),
      0,
      'the first scan does not offer to compare with itself',
    );
    assert.match((await page.getAttribute('#scans time', 'title'))!, /\d{4}/, 'the exact time on hover');
    // Downloads of the latest report in every format.
    const hrefs = await page
      .locator('a.download')
      .evaluateAll((as) => as.map((a) => (a as unknown as { href: string }).href));
    assert.deepEqual(
      hrefs.map((h) => new URL(h).searchParams.get('format')),
      ['json', 'sarif', 'cyclonedx', 'spdx', 'html'],
    );
    const download = await fetch(hrefs[1]!);
    assert.match(download.headers.get('content-disposition') ?? '', /attachment; filename="distrolens-.*\.sarif"/);
    // The report is part of the page: its frame is as tall as its content.
    await page.waitForFunction(
      () => ((globalThis as unknown as Dom).document.querySelector('#report-frame')?.offsetHeight ?? 0) > 1000,
      undefined,
      {
        timeout: WAIT,
      },
    );
    await shot('3-history');
  });

  test('rescan, search and sort, clear the jobs, delete; the layout holds at 420 px', async () => {
    const repo = `${bed.registry.host}/team/app`;
    await page.goto(`${bed.server.url}/#/image?repo=${encodeURIComponent(repo)}`);
    await page.waitForSelector('#rescan');
    const before = await page.locator('#scans tbody tr').count();
    await page.click('#rescan');
    await page.waitForFunction(
      () =>
        /scan queued/.test((globalThis as unknown as Dom).document.querySelector('#action-result')?.textContent ?? ''),
      undefined,
      { timeout: WAIT },
    );
    await bed.server.queue.idle();
    await page.reload();
    await page.waitForSelector('#scans tbody tr');
    assert.equal(await page.locator('#scans tbody tr').count(), before + 1, 'the rescan is in the history');

    await page.goto(`${bed.server.url}/#/`);
    await page.fill('#reference', bed.refs.other);
    await page.click('#scan-button');
    await page.waitForSelector('#jobs .job[data-state="done"]', { timeout: WAIT });
    await page.click('#clear-jobs');
    await page.locator('#jobs .job').waitFor({ state: 'detached', timeout: WAIT }); // finished jobs are cleared
    await page.waitForSelector('#images tbody tr[data-repository]');
    const all = await page.locator('#images tbody tr[data-repository]').count();
    await page.fill('#search', 'distroless');
    assert.equal(await page.locator('#images tbody tr[data-repository]').count(), 1, 'search filters the list');
    await page.fill('#search', '');
    await page.click('th[data-sort="reference"]');
    const ascending = await page
      .locator('#images tbody tr[data-repository]')
      .evaluateAll((rs) => rs.map((r) => (r as unknown as { dataset: { repository: string } }).dataset.repository));
    await page.click('th[data-sort="reference"]');
    const descending = await page
      .locator('#images tbody tr[data-repository]')
      .evaluateAll((rs) => rs.map((r) => (r as unknown as { dataset: { repository: string } }).dataset.repository));
    assert.equal(ascending.length, all);
    assert.deepEqual(descending, [...ascending].reverse(), 'a second click reverses the order');

    await page.setViewportSize({ width: 420, height: 900 });
    await page.goto(`${bed.server.url}/#/`);
    await page.waitForSelector('#images tbody tr[data-repository]');
    const overflow = await page.evaluate(() => (globalThis as unknown as Dom).document.documentElement.scrollWidth);
    assert.ok(overflow <= 420, `the page is ${overflow} px wide at a 420 px viewport`);
    await shot('5-narrow');
    await page.setViewportSize({ width: 1280, height: 900 });

    page.once('dialog', (dialog) => void dialog.accept());
    await page.goto(`${bed.server.url}/#/image?repo=${encodeURIComponent(`${bed.registry.host}/team/distroless`)}`);
    await page.waitForSelector('#delete');
    await page.click('#delete');
    await page.waitForFunction(() => (globalThis as unknown as Dom).location.hash === '#/', undefined, {
      timeout: WAIT,
    });
    await page.waitForSelector('#images tbody tr[data-repository]');
    assert.equal(
      await page.locator(`#images tbody tr[data-repository="${bed.registry.host}/team/distroless"]`).count(),
      0,
      'deleted',
    );
  });

  test('compare two images', async () => {
    await scanThroughApi(bed.server.url, bed.refs.other);
    await page.goto(`${bed.server.url}/#/compare`);
    await page.waitForSelector('#compare-a option', { state: 'attached' });
    const options: [string, string][] = await page
      .locator('#compare-a option')
      .evaluateAll((os) =>
        os.map((o): [string, string] => [
          (o as unknown as { value: string }).value,
          (o as unknown as { textContent: string | null }).textContent ?? '',
        ]),
      );
    const app = options.find(([, text]) => text.includes('team/app'))![0];
    const other = options.find(([, text]) => text.includes('team/distroless'))![0];
    await page.selectOption('#compare-a', app);
    await page.selectOption('#compare-b', other);
    await page.click('#compare-button');
    await page.waitForSelector('#compare-frame');
    const frame = page.frameLocator('#compare-frame');
    await frame.locator('h1').waitFor({ timeout: WAIT });
    assert.equal(await frame.locator('h1').textContent(), 'Comparison');
    assert.match((await frame.locator('.verdict').textContent())!, /distroless, grade [A-F]\) compared with/);
    assert.ok((await frame.locator('svg[role="img"]').count()) >= 4);
    await shot('4-compare');
  });

  test('the HTML report from file:// renders its charts with no network access', async () => {
    const list = (await (await fetch(`${bed.server.url}/api/images`)).json()) as { id: string }[];
    const report = (await (
      await fetch(`${bed.server.url}/api/scans/${list[0]!.id}/report?format=json`)
    ).json()) as Report;
    const dir = await tempDir();
    try {
      const file = join(dir.path, 'report.html');
      await writeFile(file, renderScanHtml(report));
      const offline = await browser.newPage();
      const requested: string[] = [];
      await offline.route('**/*', (route) =>
        route.request().url().startsWith('file:')
          ? route.continue()
          : (requested.push(route.request().url()), route.abort()),
      );
      await offline.goto(pathToFileURL(file).href);
      assert.deepEqual(requested, [], 'nothing but the file itself is loaded');
      const charts = offline.locator('svg[role="img"]');
      assert.ok((await charts.count()) >= 4);
      for (const desc of await offline.locator('svg[role="img"] desc').allTextContents())
        assert.ok(desc.length > 0, 'every chart has a text alternative');
      const rows = offline.locator('#packages tbody tr');
      const total = await rows.count();
      await offline.fill('input[data-filter="packages"]', 'no-such-package');
      assert.equal(await offline.locator('#packages tbody tr:not([hidden])').count(), 0, `filtered ${total} rows`);
      await offline.screenshot({ path: join(ARTIFACTS, '5-report-file.png'), fullPage: true });
      await offline.close();
    } finally {
      await dir.cleanup();
    }
  });
});
