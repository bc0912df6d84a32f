/**
 * The methods beyond TI and LoRA, each trained a few steps on the tiny model, saved, found again
 * after a reload, and used in a generation. One test per method: a Perfusion test goes beside them.
 */
import { expect, test, type Page } from '@playwright/test';
import { Studio } from './studio';
import { FIXTURE_HUB } from './fixture-hub';

/** Picks the method on New concept; `advanced` fills Advanced settings' number fields by label. */
async function chooseMethod(page: Page, label: string, advanced: Record<string, number> = {}): Promise<void> {
  const section = page.getByTestId('section-new-concept');
  await section.getByLabel('Method').selectOption({ label });
  if (Object.keys(advanced).length === 0) return;
  await section.getByText('Advanced settings').click();
  for (const [field, value] of Object.entries(advanced)) await section.getByLabel(field, { exact: true }).fill(String(value));
}

/** Waits for the run to end, reloads, and checks the card says the method; the model comes back by itself. */
async function trainedAndReloaded(studio: Studio, token: string, steps: number, cardText: string): Promise<void> {
  const { page } = studio;
  const training = page.getByTestId('training');
  await expect(training).toContainText(`Trained at step ${steps}`, { timeout: 600_000 });
  await expect(training).toContainText(`${token} is in your library`);
  await page.reload();
  await studio.waitForGpu();
  await expect(page.getByTestId('topbar-model')).toHaveText('fixtures/tiny-sd', { timeout: 120_000 });
  await studio.goTo('Library');
  const card = page.getByTestId('concept').filter({ hasText: token });
  await expect(card).toContainText(cardText);
  await expect(card).toContainText(`trained ${steps} steps`);
}

/** Generates with the concept's token and finds the image in the gallery. */
async function generatesWith(studio: Studio, prompt: string): Promise<void> {
  await studio.generate({ prompt, steps: 2, size: 64, seed: 5 });
  await studio.goTo('Gallery');
  await expect(studio.page.getByTestId('section-gallery').getByTestId('gallery-tile')).toHaveCount(1);
}

test('P+: train a few steps, reload, generate with its per-layer word', async ({ page }, testInfo) => {
  test.setTimeout(900_000); // 2.5-3 min alone on SwiftShader; about twice that beside another suite
  const studio = new Studio(page, testInfo);
  await studio.newConceptOnTinyModel(FIXTURE_HUB, 2);
  await chooseMethod(page, 'P+ (a word per layer)');
  await studio.train({ token: '<pp-cube>', classWord: 'cube', steps: 2, resolution: 64 });
  await trainedAndReloaded(studio, '<pp-cube>', 2, 'P+ embedding, a vector at each of');
  await studio.screenshot('pplus-library');
  await generatesWith(studio, 'a photo of <pp-cube>');
  await studio.screenshot('pplus-gallery');
  studio.expectNoErrors();
});

test('DreamBooth-LoRA: the class images are their own progress phase; train, reload, generate', async ({ page }, testInfo) => {
  test.setTimeout(900_000); // 2.5-3 min alone on SwiftShader; about twice that beside another suite
  const studio = new Studio(page, testInfo);
  await studio.newConceptOnTinyModel(FIXTURE_HUB, 2);
  await chooseMethod(page, 'DreamBooth-LoRA (keeps the class)', { 'Class images': 2, 'Steps per class image': 1 });
  await studio.train({ token: '<db-cube>', classWord: 'cube', steps: 2, resolution: 64 });
  await expect(page.getByTestId('training')).toContainText(/Class images [0-2]\/2 \(a cube\)/, { timeout: 300_000 });
  await studio.screenshot('dreambooth-class-images');
  await trainedAndReloaded(studio, '<db-cube>', 2, 'DreamBooth + ');
  await studio.screenshot('dreambooth-library');
  await generatesWith(studio, 'a photo of <db-cube> cube');
  studio.expectNoErrors();
});

test('Perfusion: train, reload, generate at two gate biases, which draw different images', async ({ page }, testInfo) => {
  test.setTimeout(900_000); // 2.5-3 min alone on SwiftShader; about twice that beside another suite
  const studio = new Studio(page, testInfo);
  await studio.newConceptOnTinyModel(FIXTURE_HUB, 2);
  await chooseMethod(page, 'Perfusion (key-locked edit)', { 'Token learning rate': 0.05 });
  await studio.train({ token: '<pf-cube>', classWord: 'cube', steps: 2, resolution: 64 });
  await trainedAndReloaded(studio, '<pf-cube>', 2, 'Perfusion');
  const drawAt = async (key: 'Home' | 'End', count: number) => {
    await studio.goTo('Library');
    const slider = page.getByTestId('section-library').getByRole('slider', { name: 'Gate bias of <pf-cube>' });
    await slider.focus();
    await slider.press(key);
    await expect(slider).toHaveValue(key === 'Home' ? '0.4' : '1');
    // the same seed both times: only the gate bias differs
    await studio.generate({ prompt: 'a photo of <pf-cube>', steps: 2, size: 64, seed: 5 });
    await studio.goTo('Gallery');
    await expect(page.getByTestId('section-gallery').getByTestId('gallery-tile')).toHaveCount(count, { timeout: 180_000 });
  };
  await drawAt('Home', 1);
  await studio.screenshot('perfusion-gate-low');
  await drawAt('End', 2);
  await studio.screenshot('perfusion-gate-high');
  const pixels = await page.getByTestId('section-gallery').getByTestId('gallery-tile').locator('img').evaluateAll((imgs: HTMLImageElement[]) =>
    imgs.map((img) => {
      const canvas = document.createElement('canvas');
      [canvas.width, canvas.height] = [img.naturalWidth, img.naturalHeight];
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(img, 0, 0);
      return Array.from(ctx.getImageData(0, 0, canvas.width, canvas.height).data);
    }),
  );
  expect(pixels).toHaveLength(2);
  expect(pixels[0].length).toBeGreaterThan(0);
  expect(pixels[1].some((v, i) => v !== pixels[0][i])).toBe(true);
  studio.expectNoErrors();
});
