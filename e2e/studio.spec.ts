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

test('a fresh studio opens on the built-in model with no request beyond 127.0.0.1; every section opens; Models lists it first, then the recommended ones', async ({ page }, testInfo) => {
  const studio = new Studio(page, testInfo);
  const hosts = studio.recordRequestHosts();
  await studio.open();
  await studio.waitForBuiltinModel();
  expect([...hosts]).toEqual(['127.0.0.1']);
  await studio.goTo('Library');
  const library = page.getByTestId('section-library');
  await expect(library.getByRole('heading', { level: 1 })).toHaveText('Library');
  await expect(library).toContainText('No concepts yet.');
  await expect(library.getByLabel('Import concept files')).toBeEnabled(); // files are checked against the loaded model
  await studio.goTo('Gallery');
  await expect(page.getByTestId('section-gallery').getByRole('heading', { level: 1 })).toHaveText('Gallery');
  await expect(page.getByTestId('section-gallery')).toContainText('No images yet');
  await studio.goTo('New concept');
  await expect(page.getByTestId('section-new-concept')).toContainText('Teach the model (Built-in demo: shapes) a new word');
  await expect(page.getByTestId('section-new-concept').getByLabel('Resolution')).toHaveValue('64');
  await studio.goTo('Generate');
  const generate = page.getByTestId('section-generate');
  await expect(generate.getByTestId('example-prompts')).toContainText('a large red circle on the left on a blue background');
  await expect(generate.getByLabel('Size')).toHaveValue('64');
  await expect(generate.getByLabel('Steps')).toHaveValue('20');
  await expect(generate.getByLabel('Guidance')).toHaveValue('5');
  await page.getByTestId('topbar-model').click();
  const models = page.getByTestId('section-models');
  await expect(models.getByRole('heading', { level: 1 })).toHaveText('Models');
  await expect(models.getByTestId('current-model')).toContainText('A small model of coloured shapes, for trying the studio; load Stable Diffusion 1.5 for photos');
  await expect(models.getByTestId('builtin-model').getByRole('button', { name: 'Loaded' })).toBeDisabled();
  await expect(models).toContainText('stable-diffusion-v1-5/stable-diffusion-v1-5');
  await expect(models).toContainText('nota-ai/bk-sdm-tiny');
  await studio.screenshot('sections');
  studio.expectNoErrors();
});

test('releasing the GPU is reported as a device loss; the GPU reconnects and the model comes back', async ({ page }, testInfo) => {
  const studio = new Studio(page, testInfo);
  await studio.open();
  await studio.waitForBuiltinModel();
  await studio.releaseGpu();
  await expect(studio.gpuPanel).toHaveAttribute('data-state', 'lost');
  await expect(studio.gpuPanel.getByRole('alert')).toContainText('The GPU was released');
  await studio.screenshot('gpu-released');
  await expect(page.getByTestId('topbar-model')).toHaveText('No model');
  await studio.reconnectGpu();
  await studio.waitForGpu();
  await expect(studio.adapterName()).toContainText(/swiftshader/i);
  await studio.waitForBuiltinModel();
  studio.expectNoErrors();
});
