// `node scripts/measure-gallery.mjs [url] [count]`: the Gallery at `count` stored images (default
// 10,000) in Chromium against a running `vite preview` (default http://127.0.0.1:4173): time from
// opening the section to the first thumbnail painted, the page's JS heap, the IndexedDB reads made,
// and the tiles in the DOM, at the top and after scrolling to the end. Prints JSON; asserts nothing.
import { chromium } from '@playwright/test';

const url = process.argv[2] ?? 'http://127.0.0.1:4173';
const count = Number(process.argv[3] ?? 10_000);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--enable-unsafe-webgpu', '--enable-precise-memory-info'] });
const page = await browser.newPage();
// Counts the page's IndexedDB reads (cursor opens and steps, gets, counts).
await page.addInitScript(() => {
  const reads = { cursors: 0, steps: 0, gets: 0, counts: 0 };
  globalThis.__idbReads = reads;
  for (const proto of [IDBObjectStore.prototype, IDBIndex.prototype]) {
    for (const [name, key] of [['openCursor', 'cursors'], ['openKeyCursor', 'cursors'], ['get', 'gets'], ['count', 'counts']]) {
      const original = proto[name];
      proto[name] = function (...args) {
        reads[key] += 1;
        return original.apply(this, args);
      };
    }
  }
  const step = IDBCursor.prototype.continue;
  IDBCursor.prototype.continue = function (...args) {
    reads.steps += 1;
    return step.apply(this, args);
  };
});
await page.goto(url);
await page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name: 'Gallery' }).click();
await page.getByTestId('gallery-count').waitFor();
await page.evaluate(async (n) => {
  const canvas = new OffscreenCanvas(256, 256);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#5b4bd6';
  ctx.fillRect(0, 0, 256, 256);
  const thumbnail = await canvas.convertToBlob({ type: 'image/webp' });
  const db = await new Promise((resolve, reject) => {
    const r = indexedDB.open('diffusion-studio-library');
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  for (let start = 0; start < n; start += 1000) {
    const tx = db.transaction(['gallery', 'gallery-thumbnails', 'gallery-images'], 'readwrite');
    for (let i = start; i < Math.min(n, start + 1000); i++) {
      const id = `m-${String(i).padStart(5, '0')}`;
      const concepts = i % 10 === 0 ? [{ id: 'c-star', token: '<star>', method: 'lora', strength: 0.8 }] : [];
      const settings = { prompt: `a prompt of some length, image number ${i}, with a few more words`, negativePrompt: 'blurry', steps: 20, guidanceScale: 7.5, sampler: 'ddim', seed: i, width: 512, height: 512, modelId: 'hf:stable-diffusion-v1-5/stable-diffusion-v1-5@main', modelName: 'stable-diffusion-v1-5', concepts };
      tx.objectStore('gallery').put({ id, createdAt: 1_700_000_000_000 + i * 1000, durationMs: 9000, settings, modelId: settings.modelId, conceptTokens: concepts.map((c) => c.token) }, id);
      tx.objectStore('gallery-thumbnails').put(thumbnail, id);
      tx.objectStore('gallery-images').put(thumbnail, id);
    }
    await new Promise((resolve, reject) => ((tx.oncomplete = resolve), (tx.onerror = () => reject(tx.error))));
  }
  db.close();
}, count);
await page.reload();
await page.getByTestId('section-library').waitFor();
await page.evaluate(() => {
  for (const k of Object.keys(globalThis.__idbReads)) globalThis.__idbReads[k] = 0;
});
const heap = () => page.evaluate(() => performance.memory?.usedJSHeapSize ?? null);
const heapBefore = await heap();
const firstPaintMs = await page.evaluate(
  () =>
    new Promise((resolve) => {
      const start = performance.now();
      [...document.querySelectorAll('nav[aria-label="Sections"] button')].find((b) => b.textContent === 'Gallery').click();
      const check = () => {
        const img = document.querySelector('[data-testid="gallery-tile"] img');
        if (img?.complete && img.naturalWidth > 0) requestAnimationFrame(() => resolve(performance.now() - start));
        else requestAnimationFrame(check);
      };
      check();
    }),
);
const atTop = { readsAtFirstPaint: await page.evaluate(() => ({ ...globalThis.__idbReads })), tiles: await page.getByTestId('gallery-tile').count(), heapBytes: await heap() };
const grid = page.getByTestId('gallery-grid');
const endStart = Date.now();
for (;;) {
  await grid.evaluate((el) => el.scrollTo(0, el.scrollHeight));
  if (await page.locator('[data-id="m-00000"]').count()) break;
  await page.waitForTimeout(100);
}
const atEnd = { msToReachEnd: Date.now() - endStart, reads: await page.evaluate(() => ({ ...globalThis.__idbReads })), tiles: await page.getByTestId('gallery-tile').count(), heapBytes: await heap() };
console.log(JSON.stringify({ count, firstPaintMs: Math.round(firstPaintMs), heapBeforeBytes: heapBefore, atTop, atEnd }, null, 2));
await browser.close();
