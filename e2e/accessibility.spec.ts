import { expect, test } from '@playwright/test';
import { Studio } from './studio';

const SECTIONS = ['Library', 'New concept', 'Generate', 'Gallery', 'Models'];

/** A safetensors embedding: one F32 tensor `token` of `width` values. */
function embedding(token: string, width: number): Buffer {
  const header = JSON.stringify({ [token]: { dtype: 'F32', shape: [1, width], data_offsets: [0, width * 4] } });
  const json = Buffer.from(header.padEnd(Math.ceil(header.length / 8) * 8, ' '));
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([size, json, Buffer.from(new Float32Array(width).fill(0.01).buffer)]);
}

test('every section, on the built-in model with a concept in the library, has no serious axe violations and fits 390 px', async ({ page }, testInfo) => {
  test.setTimeout(240_000);
  const studio = new Studio(page, testInfo);
  await studio.open();
  await studio.waitForBuiltinModel();

  // A concept in the library, and a refused file listed on its own line, named once.
  await studio.goTo('Library');
  await page.getByTestId('section-library').getByLabel('Import concept files').setInputFiles([
    { name: 'a11y-cube.safetensors', mimeType: 'application/octet-stream', buffer: embedding('<a11y-cube>', 64) },
    { name: 'sd15-style.safetensors', mimeType: 'application/octet-stream', buffer: embedding('<sd15-style>', 768) },
  ]);
  const notice = page.getByTestId('library-notice');
  await expect(notice.getByRole('listitem')).toHaveText([
    "sd15-style.safetensors: the embedding's vectors are 768 wide (SD 1.x), but shapes-sd's text encoder is 64 wide. Use an embedding trained for this base model.",
  ]);
  await expect(notice).toContainText('Imported <a11y-cube>.');
  await expect(page.getByTestId('concept')).toHaveCount(1);

  for (const section of SECTIONS) {
    await studio.goTo(section);
    await expect(page.locator('main h1')).toHaveText(section);
    expect(await studio.seriousAxeViolations(), `axe on ${section}`).toEqual([]);
  }

  await page.setViewportSize({ width: 390, height: 844 });
  for (const section of SECTIONS) {
    await studio.goTo(section);
    await expect(page.locator('main h1')).toHaveText(section);
    expect(await studio.horizontalOverflow(), `${section} at 390 px`).toBeLessThanOrEqual(0);
    await studio.screenshot(`390-${section.toLowerCase().replace(' ', '-')}`);
  }
  studio.expectNoErrors();
});

test('keyboard: the skip link moves focus into the section; Release GPU asks first and Keep it changes nothing', async ({ page }, testInfo) => {
  const studio = new Studio(page, testInfo);
  await studio.open();
  await studio.waitForBuiltinModel();
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to the section' });
  await expect(skip).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('main')).toBeFocused();

  await studio.gpuPanel.getByRole('button', { name: 'Release GPU' }).click();
  const question = studio.gpuPanel.getByRole('group');
  await expect(question).toContainText('Releasing the GPU unloads Built-in demo: shapes; nothing runs until you reconnect, which loads it again.');
  await expect(question.getByRole('button', { name: 'Release the GPU' })).toBeFocused();
  await studio.screenshot('release-gpu-confirm');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter'); // Keep it
  await expect(studio.gpuPanel.getByRole('button', { name: 'Release GPU' })).toBeFocused();
  await expect(studio.gpuPanel).toHaveAttribute('data-state', 'ready');
  await expect(page.getByTestId('topbar-model')).toHaveText('Built-in demo: shapes');
  studio.expectNoErrors();
});
