/**
 * Evaluate a concept with the tiny feature models from the local hub stand-in: the studio asks
 * before the download (saying how big), the scores appear on the library card beside the
 * class-word baseline and survive a reload, Models lists the feature models in the browser, and
 * no request leaves 127.0.0.1 (onnxruntime-web's wasm comes from the studio itself).
 */
import { encode } from 'fast-png';
import { expect, test } from '@playwright/test';
import { Studio } from './studio';
import { FIXTURE_HUB } from './fixture-hub';
import { tinyLora } from './safetensors-files';

/** A 64 × 64 photo: a coloured square on white. */
function photo(hue: number): Buffer {
  const data = new Uint8Array(64 * 64 * 4);
  for (let i = 0; i < 64 * 64; i++) {
    const [x, y] = [i % 64, Math.floor(i / 64)];
    const inside = x >= 16 && x < 48 && y >= 16 && y < 48;
    data.set(inside ? [hue, 40, 255 - hue, 255] : [255, 255, 255, 255], i * 4);
  }
  return Buffer.from(encode({ width: 64, height: 64, data, channels: 4, depth: 8 }));
}

const LOCAL = new Set(['127.0.0.1', 'localhost']);

test('Evaluate asks before the feature models download, shows the scores beside the baseline, keeps them over a reload, and stays on this machine', async ({ page }, testInfo) => {
  test.setTimeout(480_000); // 8 images of the tiny model on SwiftShader, and the reload
  const studio = new Studio(page, testInfo);
  const urls: string[] = [];
  page.context().on('request', (r) => urls.push(r.url()));
  await page.addInitScript(() => {
    const seen: string[] = ((window as { cspViolations?: string[] }).cspViolations = []);
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await studio.open();
  await studio.waitForGpu();
  await studio.loadHubModel('fixtures/tiny-sd', FIXTURE_HUB);

  // The feature models come from the stand-in (Models, "Where they come from").
  const features = page.getByTestId('feature-models');
  await expect(features).toContainText('only when you press Check sizes or Evaluate');
  await features.getByText('Where they come from').click();
  await features.getByLabel('Hub address (or a mirror)').fill(FIXTURE_HUB);
  await features.getByLabel('CLIP model id').fill('fixtures/clip-tiny');
  await features.getByLabel('DINOv2 model id').fill('fixtures/dinov2-tiny');

  await studio.goTo('Library');
  const library = page.getByTestId('section-library');
  await library.getByLabel('Import concept files').setInputFiles([{ name: 'cube.safetensors', mimeType: 'application/octet-stream', buffer: tinyLora(0.02) }]);
  await expect(page.getByTestId('library-notice')).toContainText('Imported <cube>');
  const card = library.getByRole('listitem', { name: '<cube>' });
  await card.locator('summary', { hasText: 'Evaluation' }).click();
  const evaluate = card.getByRole('button', { name: 'Evaluate', exact: true });
  await expect(evaluate).toBeDisabled(); // no class word, no photos yet
  await card.getByLabel('Class word to compare <cube> with').fill('cube');
  await card.getByLabel('Photos to compare <cube> with').setInputFiles([
    { name: 'a.png', mimeType: 'image/png', buffer: photo(0) },
    { name: 'b.png', mimeType: 'image/png', buffer: photo(200) },
  ]);
  await card.getByLabel('Evaluation steps for <cube>').fill('1');
  await card.getByLabel('Evaluation image size for <cube>').fill('32');
  await card.getByLabel('Seeds per prompt for <cube>').fill('1');
  await evaluate.click();

  // Asked first, with the size; Cancel leaves it undone.
  const question = card.getByTestId('download-question');
  await expect(question).toContainText(/Download [\d.]+ (KiB|MiB) of feature models\?/);
  await expect(question).toContainText('fixtures/clip-tiny (CLIP');
  await studio.screenshot('evaluate-question');
  await question.getByRole('button', { name: 'Cancel' }).click();
  await expect(question).toHaveCount(0);
  await evaluate.click();
  await card.getByRole('button', { name: 'Download and evaluate' }).click();

  const scores = card.getByTestId('evaluation-scores');
  await expect(scores).toBeVisible({ timeout: 360_000 });
  for (const key of ['clipI', 'dino', 'clipT']) await expect(scores.getByTestId(`score-${key}`)).toContainText(/-?\d\.\d{3}\s*-?\d\.\d{3}/);
  await expect(card.getByTestId('evaluation-reading')).not.toBeEmpty();
  await expect(card.getByTestId('evaluation-images').getByRole('img')).not.toHaveCount(0);
  await studio.screenshot('evaluate-scores');
  const shown = await scores.innerText();
  expect(await page.evaluate(() => (window as { cspViolations?: string[] }).cspViolations)).toEqual([]);

  // Kept with the concept.
  await page.reload();
  await studio.waitForGpu();
  const again = page.getByTestId('section-library').getByRole('listitem', { name: '<cube>' });
  await expect(again.getByTestId('evaluation-scores')).toBeVisible();
  expect(await again.getByTestId('evaluation-scores').innerText()).toBe(shown);

  // Models lists them as kept in this browser, counted in the storage total, and removes them.
  await studio.goTo('Models');
  await expect(page.getByTestId('feature-model-clip')).toContainText('in this browser');
  await expect(page.getByTestId('models-storage')).toContainText('feature models');
  await studio.screenshot('evaluate-models');
  await page.getByRole('button', { name: 'Remove feature models' }).click();
  await expect(page.getByTestId('feature-model-clip')).toContainText('to download');

  const offMachine = urls.filter((url) => !/^(data|blob):/.test(url) && !LOCAL.has(new URL(url).hostname));
  expect(offMachine, 'requests that leave 127.0.0.1').toEqual([]);
  expect(urls.some((u) => /ort-wasm-simd-threaded\.asyncify[^/]*\.wasm$/.test(u)), "onnxruntime-web's wasm, from the studio").toBe(true);
  expect(await page.evaluate(() => (window as { cspViolations?: string[] }).cspViolations)).toEqual([]);
  studio.expectNoErrors();
});
