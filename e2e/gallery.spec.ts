import { readFile } from 'node:fs/promises';
import { decode } from 'fast-png';
import { expect, test, type Page } from '@playwright/test';
import { parseParameters, readPngParameters } from '../src/library/png-parameters';
import { Studio } from './studio';
import { FIXTURE_HUB } from './fixture-hub';
import { tinyLora } from './safetensors-files';

interface Stored {
  id: string;
  settings: { prompt: string; seed: number; concepts: { token: string; strength: number }[] };
  png: string;
}

/** The gallery's records, newest first, each with its stored PNG (base64), read straight from IndexedDB. */
function storedImages(page: Page): Promise<Stored[]> {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open('diffusion-studio-library');
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const get = <T,>(r: IDBRequest<T>) => new Promise<T>((resolve, reject) => ((r.onsuccess = () => resolve(r.result)), (r.onerror = () => reject(r.error))));
    const tx = db.transaction(['gallery', 'gallery-images']);
    const records = (await get(tx.objectStore('gallery').index('created').getAll())).reverse() as { id: string; settings: Stored['settings'] }[];
    const images = await Promise.all(records.map((r) => get(tx.objectStore('gallery-images').get(r.id)) as Promise<Blob>));
    db.close();
    const base64 = async (b: Blob) => btoa(Array.from(new Uint8Array(await b.arrayBuffer()), (c) => String.fromCharCode(c)).join(''));
    return Promise.all(records.map(async (r, i) => ({ id: r.id, settings: r.settings, png: await base64(images[i]) })));
  });
}

test('generated images are kept in the gallery with their settings, survive a reload, and "Use these settings" makes the same pixels', async ({ page }, testInfo) => {
  test.setTimeout(300_000);
  const studio = new Studio(page, testInfo);
  await studio.open();
  await studio.waitForGpu();
  await studio.loadHubModel('fixtures/tiny-sd', FIXTURE_HUB);
  await studio.goTo('Library');
  await page.getByTestId('section-library').getByLabel('Import concept files').setInputFiles([
    { name: 'cube-a.safetensors', mimeType: 'application/octet-stream', buffer: tinyLora(0.02) },
    { name: 'cube-b.safetensors', mimeType: 'application/octet-stream', buffer: tinyLora(-0.03) },
  ]);
  await expect(page.getByTestId('library-notice')).toContainText('Imported <cube-a>, <cube-b>');

  // Two images of one prompt, one of a prompt with two concepts.
  await studio.generate({ prompt: 'a red square', steps: 1, size: 64, seed: 7 });
  await studio.generate({ prompt: 'a red square', steps: 1, size: 64, seed: 8 });
  await studio.generate({ prompt: 'a photo of <cube-a> and <cube-b>', steps: 1, size: 64, seed: 11 });

  await studio.goTo('Gallery');
  const gallery = page.getByTestId('section-gallery');
  await expect(gallery.getByTestId('gallery-count')).toHaveText('3 images');
  await expect(gallery.getByTestId('gallery-tile')).toHaveCount(3);
  const stored = await storedImages(page);
  expect(stored.map((s) => [s.settings.prompt, s.settings.seed])).toEqual([
    ['a photo of <cube-a> and <cube-b>', 11],
    ['a red square', 8],
    ['a red square', 7],
  ]);
  expect(stored[0].settings.concepts.map((c) => [c.token, c.strength]).sort()).toEqual([
    ['<cube-a>', 1],
    ['<cube-b>', 1],
  ]);
  // Each PNG carries its settings (A1111's parameters chunk).
  const parameters = parseParameters(readPngParameters(Buffer.from(stored[0].png, 'base64'))!);
  expect(parameters).toMatchObject({ seed: 11, steps: 1, width: 64, height: 64 });
  expect(parameters.loras.map((l) => [l.name, l.strength]).sort()).toEqual([
    ['cube-a-lora-kohya', 1],
    ['cube-b-lora-kohya', 1],
  ]);
  expect(parameters.prompt).toContain('a photo of <cube-a> and <cube-b>');

  await page.reload();
  await studio.goTo('Gallery');
  await expect(gallery.getByTestId('gallery-count')).toHaveText('3 images');
  await gallery.getByRole('button', { name: 'Open a photo of <cube-a> and <cube-b>, seed 11' }).click();
  const lightbox = page.getByTestId('lightbox');
  await expect(lightbox.getByRole('heading', { name: 'Image 1 of 3' })).toBeVisible();
  await expect(lightbox.getByTestId('lightbox-settings')).toContainText('<cube-a> (LoRA, strength 1)');
  await expect(lightbox.getByTestId('lightbox-settings')).toContainText('<cube-b> (LoRA, strength 1)');
  await expect(lightbox.getByRole('img', { name: 'a photo of <cube-a> and <cube-b>, seed 11' })).toHaveJSProperty('complete', true);
  await studio.screenshot('gallery-lightbox');
  const download = page.waitForEvent('download');
  await lightbox.getByRole('button', { name: 'Download PNG' }).click();
  expect((await download).suggestedFilename()).toBe('studio-11.png');
  const saved = await readFile((await (await download).path())!);
  expect(parseParameters(readPngParameters(saved)!)).toMatchObject({ seed: 11, steps: 1 });
  await page.keyboard.press('ArrowRight');
  await expect(lightbox.getByRole('heading', { name: 'Image 2 of 3' })).toBeVisible();
  await expect(lightbox.getByTestId('lightbox-settings')).toContainText(/Seed\s*8(?!\d)/);
  await page.keyboard.press('ArrowLeft');
  await expect(lightbox.getByRole('heading', { name: 'Image 1 of 3' })).toBeVisible();
  // Flipping faster than images load frees each image's URL only once it settled (no failed load).
  for (let i = 0; i < 4; i++) for (const key of ['ArrowRight', 'ArrowRight', 'ArrowLeft', 'ArrowLeft']) await page.keyboard.press(key);
  await expect(lightbox.getByRole('heading', { name: 'Image 1 of 3' })).toBeVisible();
  await expect(lightbox.getByRole('img', { name: 'a photo of <cube-a> and <cube-b>, seed 11' })).toHaveJSProperty('complete', true);

  // The model comes back by itself; the same settings give the same pixels.
  await expect(page.getByTestId('topbar-model')).toHaveText('fixtures/tiny-sd', { timeout: 120_000 });
  await lightbox.getByRole('button', { name: 'Use these settings' }).click();
  const generate = page.getByTestId('section-generate');
  await expect(generate.getByRole('textbox', { name: 'Prompt', exact: true })).toHaveValue('a photo of <cube-a> and <cube-b>');
  await expect(generate.getByLabel('Seed')).toHaveValue('11');
  await generate.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByTestId('result').getByRole('img', { name: 'Generated image 1' })).toBeVisible({ timeout: 180_000 });
  await studio.goTo('Gallery');
  await expect(gallery.getByTestId('gallery-count')).toHaveText('4 images');
  const [again, , , first] = await storedImages(page).then((s) => [s[0], s[1], s[2], s.find((x) => x.id === stored[0].id)!]);
  expect(again.settings).toEqual(first.settings);
  const a = decode(Buffer.from(again.png, 'base64'));
  const b = decode(Buffer.from(first.png, 'base64'));
  expect([a.width, a.height]).toEqual([64, 64]);
  expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
  // A different seed, a different image: the comparison can fail.
  const other = decode(Buffer.from(stored[2].png, 'base64'));
  expect(Buffer.from(other.data).equals(Buffer.from(b.data))).toBe(false);
  await studio.screenshot('gallery-grid');
  studio.expectNoErrors();
});

test('a gallery of 2,000 images opens, scrolls to the end and filters by a concept with only a window of tiles in the page', async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  const studio = new Studio(page, testInfo);
  await studio.open();
  await expect(page.getByTestId('section-library')).toBeVisible();
  await studio.goTo('Gallery');
  await expect(page.getByTestId('gallery-count')).toHaveText('0 images'); // the database is open at its current version
  await page.evaluate(async (n) => {
    const canvas = new OffscreenCanvas(16, 16);
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#5b4bd6';
    ctx.fillRect(0, 0, 16, 16);
    const thumbnail = await canvas.convertToBlob({ type: 'image/png' });
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open('diffusion-studio-library');
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const tx = db.transaction(['gallery', 'gallery-thumbnails', 'gallery-images'], 'readwrite');
    for (let i = 0; i < n; i++) {
      const star = i % 10 === 0;
      const id = `${star ? 'star' : 'plain'}-${String(i).padStart(4, '0')}`;
      const concepts = star ? [{ id: 'c-star', token: '<star>', method: 'lora', strength: 0.8 }] : [];
      const settings = { prompt: star ? `a <star> number ${i}` : `a square number ${i}`, negativePrompt: '', steps: 2, guidanceScale: 5, sampler: 'ddim', seed: i, width: 16, height: 16, modelId: 'builtin:shapes-sd', modelName: 'shapes', concepts };
      tx.objectStore('gallery').put({ id, createdAt: 1_700_000_000_000 + i * 1000, durationMs: 100, settings, modelId: settings.modelId, conceptTokens: concepts.map((c) => c.token) }, id);
      tx.objectStore('gallery-thumbnails').put(thumbnail, id);
      tx.objectStore('gallery-images').put(thumbnail, id);
    }
    await new Promise((resolve, reject) => ((tx.oncomplete = resolve), (tx.onerror = () => reject(tx.error))));
    db.close();
  }, 2000);
  await page.reload();
  await studio.goTo('Gallery');
  const gallery = page.getByTestId('section-gallery');
  const tiles = gallery.getByTestId('gallery-tile');
  await expect(gallery.getByTestId('gallery-count')).toHaveText('2000 images');
  await expect(tiles.first()).toHaveAttribute('data-id', 'plain-1999'); // newest first
  const bounded = async () => expect(await tiles.count()).toBeLessThan(200);
  await bounded();
  await studio.screenshot('gallery-2000');

  // To the end: the pages on the way are read as the grid comes to them.
  const grid = gallery.getByTestId('gallery-grid');
  await expect(async () => {
    await grid.evaluate((el) => el.scrollTo(0, el.scrollHeight));
    await bounded();
    await expect(gallery.locator('[data-id="star-0000"]')).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 60_000 });
  await bounded();
  await studio.screenshot('gallery-2000-end');

  await gallery.getByLabel('Concept').selectOption('<star>');
  await expect(gallery.getByTestId('gallery-count')).toHaveText('200 images match');
  await expect(tiles.first()).toHaveAttribute('data-id', 'star-1990');
  await bounded();
  const ids = await tiles.evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
  expect(ids.every((id) => id?.startsWith('star-'))).toBe(true);

  // Several selected and deleted, then put back.
  await tiles.nth(0).getByRole('checkbox').check();
  await tiles.nth(1).getByRole('checkbox').check();
  await gallery.getByRole('button', { name: 'Delete selected (2)' }).click();
  await expect(gallery.getByTestId('gallery-count')).toHaveText('198 images match');
  await expect(tiles.first()).toHaveAttribute('data-id', 'star-1970');
  await gallery.getByRole('button', { name: 'Undo' }).click();
  await expect(gallery.getByTestId('gallery-count')).toHaveText('200 images match');
  await expect(tiles.first()).toHaveAttribute('data-id', 'star-1990');
  await studio.screenshot('gallery-2000-filtered');
  studio.expectNoErrors();
});
