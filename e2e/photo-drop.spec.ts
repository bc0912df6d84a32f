import { expect, test } from '@playwright/test';
import { Studio } from './studio';

/** What the page sends the engine to train on: each train request's images, copied before the worker takes them. */
declare global {
  interface Window {
    trainInputs: { images: Float32Array; resolution: number }[];
  }
}

test('a real drop of photos: images kept, a text file and a tiny PNG named; the moved crop and an EXIF-turned JPEG are what training gets', async ({ page }, testInfo) => {
  test.setTimeout(240_000);
  await page.addInitScript(() => {
    window.trainInputs = [];
    const post = Worker.prototype.postMessage as (this: Worker, message: unknown, transfer?: Transferable[]) => void;
    Worker.prototype.postMessage = function (this: Worker, message: unknown, transfer?: Transferable[]) {
      const m = message as { kind?: string; payload?: { images: Float32Array; options: { resolution: number } } };
      if (m?.kind === 'train' && m.payload) window.trainInputs.push({ images: m.payload.images.slice(), resolution: m.payload.options.resolution });
      post.call(this, message, transfer);
    } as Worker['postMessage'];
  });
  const studio = new Studio(page, testInfo);
  await studio.open();
  await studio.waitForBuiltinModel();
  await studio.goTo('New concept');
  const section = page.getByTestId('section-new-concept');

  const dropped = await page.evaluateHandle(async () => {
    // Red on the left half, blue on the right.
    const halves = (width: number, height: number) => {
      const canvas = new OffscreenCanvas(width, height);
      const ctx = canvas.getContext('2d')!;
      ctx.fillStyle = '#f00';
      ctx.fillRect(0, 0, width / 2, height);
      ctx.fillStyle = '#00f';
      ctx.fillRect(width / 2, 0, width / 2, height);
      return canvas;
    };
    const wide = await halves(128, 64).convertToBlob({ type: 'image/png' });
    const tiny = await halves(32, 32).convertToBlob({ type: 'image/png' });
    const green = new OffscreenCanvas(64, 80);
    green.getContext('2d')!.fillStyle = '#0f0';
    green.getContext('2d')!.fillRect(0, 0, 64, 80);
    // The same halves as a JPEG whose EXIF says "turn 90° clockwise to show": upright it is 64 × 128, red on top.
    const jpeg = new Uint8Array(await (await halves(128, 64).convertToBlob({ type: 'image/jpeg', quality: 0.95 })).arrayBuffer());
    const exif = [0xff, 0xe1, 0, 34, ...[...'Exif'].map((c) => c.charCodeAt(0)), 0, 0, 0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0];
    const turned = new Uint8Array([...jpeg.subarray(0, 2), ...exif, ...jpeg.subarray(2)]);
    const data = new DataTransfer();
    data.items.add(new File([wide], 'wide.png', { type: 'image/png' }));
    data.items.add(new File(['shopping list: milk, eggs'], 'notes.txt', { type: 'text/plain' }));
    data.items.add(new File([await green.convertToBlob({ type: 'image/png' })], 'green.png', { type: 'image/png' }));
    data.items.add(new File([tiny], 'tiny.png', { type: 'image/png' }));
    data.items.add(new File([turned], 'turned.jpg', { type: 'image/jpeg' }));
    return data;
  });
  await page.getByTestId('photo-drop').dispatchEvent('drop', { dataTransfer: dropped });

  await expect(section.getByTestId('photo-refusals').getByRole('listitem')).toHaveText([
    'notes.txt: not an image the browser can decode',
    'tiny.png: 32×32 is too small (at least 64 px on the short side)',
  ]);
  const photos = page.getByTestId('photos');
  await expect(photos.getByRole('img')).toHaveCount(3);
  // Ctrl+V of an image anywhere in the section (the clipboard names every image "image.png").
  await page.evaluate(async () => {
    const canvas = new OffscreenCanvas(64, 64);
    canvas.getContext('2d')!.fillRect(0, 0, 64, 64);
    const data = new DataTransfer();
    data.items.add(new File([await canvas.convertToBlob({ type: 'image/png' })], 'image.png', { type: 'image/png' }));
    document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true }));
  });
  await expect(photos.getByRole('img')).toHaveCount(4);
  await expect(photos.getByRole('img').nth(3)).toHaveAccessibleName(/^pasted-\d{8}-\d{6}-1\.png$/);
  // The mouse drags the wide photo's picture left: its square goes to the right edge.
  const crop = photos.getByRole('group', { name: 'Crop of wide.png' });
  const box = (await crop.boundingBox())!;
  await page.mouse.move(box.x + 80, box.y + 48);
  await page.mouse.down();
  await page.mouse.move(box.x - 120, box.y + 48, { steps: 5 });
  await page.mouse.up();
  await expect(crop.getByRole('img')).toHaveAttribute('style', /left: -100%/);
  // The keyboard takes it to the left edge; the green one is zoomed in twice.
  await crop.focus();
  for (let i = 0; i < 10; i++) await crop.press('ArrowLeft');
  await expect(crop.getByRole('img')).toHaveAttribute('style', /left: 0%/);
  await photos.getByLabel('Zoom green.png').fill('2');
  await studio.screenshot('photo-drop');

  await section.getByLabel('Token', { exact: true }).fill('<dropped>');
  await section.getByLabel('What it is').fill('shape');
  await section.getByRole('button', { name: 'Train' }).click();
  await expect.poll(() => page.evaluate(() => window.trainInputs.length), { timeout: 60_000 }).toBe(1);
  const storedCrops = await page.evaluate(
    () =>
      new Promise<unknown>((resolve, reject) => {
        const open = indexedDB.open('diffusion-studio-library');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const all = open.result.transaction('runs').objectStore('runs').getAll();
          all.onsuccess = () => resolve(all.result.map((r: { crops?: unknown }) => r.crops));
        };
      }),
  );
  await section.getByRole('button', { name: 'Cancel' }).click();
  expect(storedCrops).toEqual([[{ x: 0, y: 0.5, size: 1 }, { x: 0.5, y: 0.5, size: 0.5 }, { x: 0.5, y: 0.5, size: 1 }, { x: 0.5, y: 0.5, size: 1 }]]);

  // Mean of a channel (0 R, 2 B) over rows [from, to) of photo n, in the training input ([N, 3, S, S], [-1, 1]).
  const mean = (n: number, channel: number, from: number, to: number) =>
    page.evaluate(
      ({ n, channel, from, to }) => {
        const { images, resolution: s } = window.trainInputs[0];
        const [top, bottom] = [Math.round(from * s), Math.round(to * s)];
        let sum = 0;
        for (let y = top; y < bottom; y++) for (let x = 0; x < s; x++) sum += images[((n * 3 + channel) * s + y) * s + x];
        return sum / ((bottom - top) * s);
      },
      { n, channel, from, to },
    );
  // wide.png, moved to its left edge: all red (its centred square was half blue).
  expect(await mean(0, 0, 0, 1)).toBeGreaterThan(0.95);
  expect(await mean(0, 2, 0, 1)).toBeLessThan(-0.95);
  // turned.jpg, upright: red above, blue below (unturned it would be red left, blue right).
  expect(await mean(2, 0, 0, 0.4)).toBeGreaterThan(0.8);
  expect(await mean(2, 2, 0, 0.4)).toBeLessThan(-0.8);
  expect(await mean(2, 2, 0.6, 1)).toBeGreaterThan(0.8);
  expect(await mean(2, 0, 0.6, 1)).toBeLessThan(-0.8);
  studio.expectNoErrors();
});
