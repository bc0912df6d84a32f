import { expect, test } from '@playwright/test';
import { Studio } from './studio';

test('the studio opens and reports the SwiftShader adapter in the GPU panel', async ({ page }, testInfo) => {
  const studio = new Studio(page, testInfo);
  await studio.open();
  await studio.waitForGpu();
  await expect(studio.adapterName()).toContainText(/swiftshader/i);
  await expect(studio.gpuPanel).toContainText('Largest buffer');
  await studio.screenshot('studio');
  studio.expectNoErrors();
});

test('every section opens: an empty library says how to start, New concept and Generate ask for a model, Models lists the recommended ones', async ({ page }, testInfo) => {
  const studio = new Studio(page, testInfo);
  await studio.open();
  await studio.goTo('Library');
  const library = page.getByTestId('section-library');
  await expect(library.getByRole('heading', { level: 1 })).toHaveText('Library');
  await expect(library).toContainText('No concepts yet.');
  await expect(library.getByLabel('Import concept files')).toBeDisabled(); // files are checked against a model
  await studio.goTo('Gallery');
  await expect(page.getByTestId('section-gallery').getByRole('heading', { level: 1 })).toHaveText('Gallery');
  await expect(page.getByTestId('section-gallery').getByRole('listitem').first()).toBeVisible();
  await studio.goTo('New concept');
  await expect(page.getByTestId('section-new-concept')).toContainText('Load a model first');
  await studio.goTo('Generate');
  await expect(page.getByTestId('section-generate')).toContainText('Load a model first');
  await page.getByTestId('section-generate').getByRole('button', { name: 'Go to Models' }).click();
  const models = page.getByTestId('section-models');
  await expect(models.getByRole('heading', { level: 1 })).toHaveText('Models');
  await expect(models).toContainText('stable-diffusion-v1-5/stable-diffusion-v1-5');
  await expect(models).toContainText('nota-ai/bk-sdm-tiny');
  await studio.screenshot('sections');
  studio.expectNoErrors();
});

test('releasing the GPU is reported as a device loss and the GPU reconnects', async ({ page }, testInfo) => {
  const studio = new Studio(page, testInfo);
  await studio.open();
  await studio.waitForGpu();
  await studio.releaseGpu();
  await expect(studio.gpuPanel).toHaveAttribute('data-state', 'lost');
  await expect(studio.gpuPanel.getByRole('alert')).toContainText('The GPU was released');
  await studio.screenshot('gpu-released');
  await studio.reconnectGpu();
  await studio.waitForGpu();
  await expect(studio.adapterName()).toContainText(/swiftshader/i);
  studio.expectNoErrors();
});
