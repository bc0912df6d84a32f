import { expect, test } from '@playwright/test';
import { Studio } from './studio';
import { FIXTURE_HUB } from './fixture-hub';

test('load the tiny model from a hub endpoint and generate an image', async ({ page }, testInfo) => {
  test.setTimeout(300_000);
  const studio = new Studio(page, testInfo);
  await studio.open();
  await studio.waitForGpu();
  await studio.loadHubModel('fixtures/tiny-sd', FIXTURE_HUB);
  await expect(page.getByTestId('cached-models')).toContainText('fixtures/tiny-sd');
  const result = await studio.generate({ prompt: 'a photo of an astronaut riding a horse on mars', steps: 2, size: 64, seed: 42 });
  await expect(result).toContainText('seed 42');
  const download = page.waitForEvent('download');
  await result.getByRole('button', { name: 'Save PNG' }).click();
  expect((await download).suggestedFilename()).toBe('studio-42.png');
  await studio.screenshot('generated');
  studio.expectNoErrors();
});

test('a model id that does not exist gives a clear message and the studio stays usable', async ({ page }, testInfo) => {
  const studio = new Studio(page, testInfo);
  await studio.open();
  await studio.waitForGpu();
  await studio.goTo('Models');
  const models = page.getByTestId('section-models');
  await models.getByText('Hub endpoint').click();
  await models.getByLabel('Endpoint').fill(FIXTURE_HUB);
  await models.getByLabel('Repository').fill('fixtures/no-such-model');
  const hubForm = models.getByRole('form', { name: 'Load from the hub' });
  await hubForm.getByRole('button', { name: 'Load', exact: true }).click();
  await expect(models.getByRole('alert')).toContainText('Could not load fixtures/no-such-model');
  await expect(hubForm.getByRole('button', { name: 'Load', exact: true })).toBeEnabled();
  await expect(page.getByTestId('topbar-model')).toHaveText('Built-in demo: shapes'); // the model in use stays
  await studio.screenshot('missing-model');
  // The hub's 404s are expected console noise of the failed fetches, not studio errors.
  expect(studio.errors.filter((e) => !/404|Failed to load resource/.test(e))).toEqual([]);
});
