import { expect, test } from '@playwright/test';
import { Studio } from './studio';
import { fgColorDist, analyzeHeldOut } from '../src/world/metrics';
import { sampleConcept } from '../src/world/sample-concepts';

test('offline on the built-in model: try a sample concept, train a few steps, and its token draws nearer its colour than the class word', async ({ page }, testInfo) => {
  test.setTimeout(1_200_000); // 5-6.4 min alone on SwiftShader; about twice that beside another suite
  const studio = new Studio(page, testInfo);
  const hosts = studio.recordRequestHosts();
  await studio.open();
  await studio.waitForBuiltinModel();

  const concept = sampleConcept('teal-heart')!;
  await studio.goTo('New concept');
  const section = page.getByTestId('section-new-concept');
  await section.getByRole('button', { name: `Try ${concept.title}` }).click();
  await expect(page.getByTestId('photos').getByRole('img')).toHaveCount(5);
  await expect(section.getByLabel('Token', { exact: true })).toHaveValue(concept.token);
  await expect(section.getByLabel('What it is')).toHaveValue(concept.classWord);
  await expect(page.getByTestId('sample-concepts').getByRole('button', { name: `Try ${concept.title}` })).toBeDisabled(); // the photos are there now
  await studio.screenshot('sample-concept');
  await section.getByLabel('Method').selectOption('ti');
  await section.getByLabel('Steps', { exact: true }).fill(String(E2E_STEPS));
  await section.getByRole('button', { name: 'Train' }).click();
  await expect(page.getByTestId('training')).toContainText(`Trained at step ${E2E_STEPS}`, { timeout: 720_000 });
  await studio.screenshot('sample-trained');

  const pixels = async (prompt: string) => {
    const result = await studio.generate({ prompt, seed: 3 });
    await expect(result).toContainText('seed 3');
    return page.evaluate(() => {
      const canvas = document.querySelector<HTMLCanvasElement>('[data-testid="result"] canvas')!;
      return Array.from(canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data);
    });
  };
  const score = (data: number[]) => {
    const image = { width: 64, height: 64, data: Uint8ClampedArray.from(data) };
    return fgColorDist(image, analyzeHeldOut(image), concept.colors);
  };
  const learned = score(await pixels(`a photo of a ${concept.token}`));
  await studio.screenshot('sample-generated');
  const classWord = score(await pixels(`a photo of a ${concept.classWord}`));
  console.log(`foreground distance to teal: ${concept.token} ${learned.toFixed(1)}, "${concept.classWord}" ${classWord.toFixed(1)}`);
  expect(learned).toBeLessThan(classWord - E2E_MARGIN);
  expect([...hosts]).toEqual(['127.0.0.1']);
  studio.expectNoErrors();
});

/** Few steps at the studio's defaults for the built-in model; the margin is what it clears with room (measured in Node: see quality.test.ts). */
const E2E_STEPS = 10;
const E2E_MARGIN = 30;
