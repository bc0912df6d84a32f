import { expect, test } from '@playwright/test';
import { Studio } from './studio';

test('README start command: the dev server serves the studio, it reaches the GPU and opens on the built-in model, offline', async ({ page }, testInfo) => {
  test.setTimeout(540_000);
  const studio = new Studio(page, testInfo);
  const hosts = studio.recordRequestHosts();
  await studio.open();
  await studio.waitForGpu();
  await expect(studio.adapterName()).toContainText(/swiftshader/i);
  await studio.waitForBuiltinModel();
  // Photo thumbnails show the photos under StrictMode (its extra effect run once revoked their URLs).
  await studio.goTo('New concept');
  await page.getByTestId('section-new-concept').getByRole('button', { name: 'Try Teal heart' }).click();
  const thumbs = page.getByTestId('photos').locator('img');
  await expect(thumbs).toHaveCount(5);
  await expect.poll(() => thumbs.evaluateAll((imgs) => imgs.filter((img) => (img as HTMLImageElement).naturalWidth === 64).length)).toBe(5);

  // A generation under StrictMode: the image is drawn and announced, and the console stays clean.
  await studio.goTo('Generate');
  const generate = page.getByTestId('section-generate');
  await generate.getByRole('textbox', { name: 'Prompt', exact: true }).fill('a large red circle');
  await generate.getByLabel('Steps').fill('1');
  await generate.getByLabel('Seed').fill('9');
  await generate.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByTestId('announcer')).toHaveText('Generated 1 image, seed 9.', { timeout: 400_000 });
  await expect(page.getByTestId('result').getByRole('img', { name: 'Generated image 1' })).toBeVisible();

  expect([...hosts]).toEqual(['127.0.0.1']);
  await studio.screenshot('dev-server');
  studio.expectNoErrors();
});
