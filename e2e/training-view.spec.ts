import { expect, test } from '@playwright/test';
import { Studio } from './studio';
import { FIXTURE_HUB } from './fixture-hub';

test('the loss chart holds one point per step; after a reload the library card shows the curve', async ({ page }, testInfo) => {
  test.setTimeout(900_000);
  const studio = new Studio(page, testInfo);
  await studio.newConceptOnTinyModel(FIXTURE_HUB, 2);
  await studio.train({ token: '<my-cone>', classWord: 'cone', steps: 2, resolution: 64 });
  const training = page.getByTestId('training');
  const chart = training.getByTestId('loss-chart');
  await expect(chart.getByRole('img', { name: /Training loss against step/ })).toBeVisible({ timeout: 300_000 });
  await expect(training).toContainText('Trained at step 2', { timeout: 720_000 });
  await expect(chart).toHaveAttribute('data-points', '2'); // the points given to the chart, not its pixels
  await expect(chart).toContainText(/Step 2: loss \d\.\d{4}, smoothed \d\.\d{4}; lowest smoothed \d\.\d{4} at step \d/);
  const previews = page.getByTestId('training-previews');
  await expect(previews.getByRole('img', { name: 'Preview at step 2' })).toBeVisible();
  await expect(previews).toContainText(/Previews of “.*<my-cone>.*”/);
  await studio.screenshot('training-done-chart');

  await page.reload();
  await studio.waitForGpu();
  const card = page.getByTestId('concept').filter({ hasText: '<my-cone>' });
  const curve = card.getByTestId('loss-curve');
  await expect(curve).toHaveAttribute('data-points', '2');
  await expect(curve.getByRole('img', { name: /Training loss of <my-cone> against step\. Step 2: loss/ })).toBeVisible();
  await expect(curve).toContainText('Training loss, 2 steps');
  await studio.screenshot('library-card-curve');
  studio.expectNoErrors();
});
