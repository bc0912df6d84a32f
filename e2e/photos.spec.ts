import { expect, test } from '@playwright/test';
import { Studio } from './studio';

test('photos are decoded when dropped: a text file renamed .jpg and a 20000 × 20000 PNG are named and left out, the real PNG is kept', async ({ page }, testInfo) => {
  test.setTimeout(240_000);
  const studio = new Studio(page, testInfo);
  await studio.open();
  await studio.waitForBuiltinModel();
  await studio.goTo('New concept');
  const section = page.getByTestId('section-new-concept');
  const dropped = await page.evaluateHandle(async () => {
    const canvas = new OffscreenCanvas(80, 64);
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = 'teal';
    ctx.fillRect(0, 0, 80, 64);
    const png = await canvas.convertToBlob({ type: 'image/png' });
    // Signature and IHDR of a 20000 × 20000 RGBA PNG: 33 bytes, no pixels.
    const huge = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0x4e, 0x20, 0, 0, 0x4e, 0x20, 8, 6, 0, 0, 0, 0, 0, 0, 0]);
    const data = new DataTransfer();
    data.items.add(new File(['shopping list: milk, eggs'], 'notes.jpg', { type: 'image/jpeg' }));
    data.items.add(new File([huge], 'huge.png', { type: 'image/png' }));
    data.items.add(new File([png], 'teal.png', { type: 'image/png' }));
    return data;
  });
  await section.getByRole('heading', { name: 'Photos' }).dispatchEvent('drop', { dataTransfer: dropped });
  const refusals = section.getByTestId('photo-refusals').getByRole('listitem');
  await expect(refusals).toHaveText(['notes.jpg: not an image the browser can decode', 'huge.png: 20000×20000 is over the 40-megapixel limit']);
  await expect(page.getByTestId('photos').getByRole('img')).toHaveCount(1);
  await expect(page.getByTestId('photos').getByRole('img', { name: 'teal.png' })).toBeVisible();
  await studio.screenshot('photos-refused');
});
