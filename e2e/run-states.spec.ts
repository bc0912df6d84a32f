/**
 * Training runs that say what happened: out-of-range steps refused before anything starts; a run
 * paused by the person comes back after a reload as paused (its loss and previews kept with it);
 * Discard and a done concept leave the form ready for the next one; focus follows the pressed
 * buttons. SwiftShader trains slowly: the real run takes 2 steps, and the previews' way back is
 * shown on a paused run stored as the page stores one (a preview needs 10 steps).
 */
import { expect, test, type Page } from '@playwright/test';
import { Studio } from './studio';
import { FIXTURE_HUB } from './fixture-hub';

/** What has focus: its test id or field name, then its text ("training: Paused at step 1…", "token: "). */
const focused = (page: Page) =>
  page.evaluate(() => {
    const e = document.activeElement as HTMLElement | null;
    return `${e?.dataset.testid ?? e?.getAttribute('name') ?? e?.tagName}: ${e?.textContent ?? ''}`;
  });

test('a paused run stored with its previews comes back after a reload worded as paused, previews shown', async ({ page }, testInfo) => {
  const studio = new Studio(page, testInfo);
  await studio.open();
  await studio.waitForGpu(); // the library database is open by now
  await page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('diffusion-studio-library');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const photo = await new Promise<Blob>((resolve) => {
      const c = document.createElement('canvas');
      c.width = c.height = 64;
      c.getContext('2d')!.fillRect(0, 0, 64, 64);
      c.toBlob((b) => resolve(b!), 'image/png');
    });
    const data = new Uint8ClampedArray(64 * 64 * 4).map((_, i) => (i % 4 === 3 ? 255 : (i * 7) & 255));
    const run = {
      version: 1,
      runId: 'run-paused',
      options: { method: 'ti', token: '<paused-ball>', classWord: 'ball', steps: 20, resolution: 64 },
      photos: [photo],
      modelId: 'builtin:shapes-sd',
      modelName: 'shapes-sd',
      state: 'paused',
      step: 12,
      steps: 20,
      updated: Date.now(),
      loss: 0.1234,
      previews: [{ step: 10, prompt: 'a photo of a <paused-ball>', image: { width: 64, height: 64, data } }],
    };
    await new Promise((resolve, reject) => {
      const tx = db.transaction('runs', 'readwrite');
      tx.objectStore('runs').put(run, run.runId);
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
    });
    db.close();
  });
  await page.reload();
  await studio.goTo('New concept');
  const training = page.getByTestId('training');
  await expect(training).toContainText('Paused at step 12 of 20, loss 0.1234.');
  await expect(training).not.toContainText('stopped');
  await expect(training.getByTestId('training-previews').getByRole('img', { name: 'Preview at step 10' })).toBeVisible();
  await expect(training.getByRole('button', { name: 'Discard' })).toBeVisible();
  await studio.screenshot('run-states-paused-with-previews');
  studio.expectNoErrors();
});

test('steps out of range refused with the reason; Train, Pause, reload: paused at its step; Discard; a done concept leaves no photos', async ({ page }, testInfo) => {
  test.setTimeout(900_000);
  const studio = new Studio(page, testInfo);
  await studio.newConceptOnTinyModel(FIXTURE_HUB, 3);
  const section = page.getByTestId('section-new-concept');
  const steps = section.getByLabel('Steps', { exact: true });
  const trainButton = section.getByRole('button', { name: 'Train' });
  await section.getByLabel('Token', { exact: true }).fill('<my-run>');
  await section.getByLabel('What it is').fill('ball');
  await section.getByLabel('Resolution').fill('64');

  // Presets: Standard is the draft's; Quick fills the steps; an edit reads Custom.
  const presets = section.getByRole('group', { name: 'Preset' });
  await expect(presets.getByRole('radio', { name: /^Standard/ })).toBeChecked();
  const quick = presets.getByRole('radio', { name: /^Quick/ });
  await quick.check();
  const quickSteps = /Quick \((\d+) steps\)/.exec((await presets.textContent()) ?? '')![1];
  await expect(steps).toHaveValue(quickSteps);
  await expect(quick).toBeChecked();

  for (const value of ['0', '100000']) {
    await steps.fill(value);
    await expect(section.getByTestId('option-problems')).toHaveText(`Steps must be a whole number from 1 to 10,000; it is ${value}.`);
    await expect(trainButton).toBeDisabled();
  }
  await expect(presets.getByTestId('preset-custom')).toHaveText('Custom');
  await studio.screenshot('run-states-refused');

  await steps.fill('2');
  await expect(section.getByTestId('option-problems')).toHaveCount(0);
  await trainButton.click();
  const training = page.getByTestId('training');
  await expect.poll(() => focused(page)).toMatch(/^training: /); // the running card, not <body>
  await expect(section.getByLabel('Add photos')).toBeDisabled();
  await expect(section.getByLabel('Token', { exact: true })).toBeDisabled();
  await section.getByRole('button', { name: 'Pause' }).click();
  await expect(training).toContainText(/Paused at step 1 of 2, loss \d/, { timeout: 600_000 });
  await expect.poll(() => focused(page)).toMatch(/^training: Paused at step 1/);
  await studio.screenshot('run-states-paused');

  await page.reload();
  await studio.waitForGpu();
  await studio.goTo('New concept');
  await expect(training).toContainText(/Paused at step 1 of 2, loss \d/);
  await expect(training).not.toContainText('stopped');
  await expect(training.getByRole('button', { name: 'Resume' })).toBeVisible({ timeout: 120_000 }); // its model is back by itself
  await studio.screenshot('run-states-paused-after-reload');
  await training.getByRole('button', { name: 'Discard' }).click();
  await expect(training).toHaveCount(0);
  await expect.poll(() => focused(page)).toBe('token: '); // back to the form

  // A one-step run to its end: the concept takes the photos, the next one starts from none.
  await expect(page.getByTestId('photos').getByRole('img')).toHaveCount(3);
  await steps.fill('1');
  await trainButton.click();
  await expect(training).toContainText('Trained at step 1', { timeout: 600_000 });
  await expect.poll(() => focused(page)).toMatch(/^training: Trained at step 1/);
  await expect(page.getByTestId('photos').getByRole('img')).toHaveCount(0);
  await expect(trainButton).toBeDisabled();
  await studio.screenshot('run-states-done');
  studio.expectNoErrors();
});
