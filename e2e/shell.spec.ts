import { expect, test } from '@playwright/test';
import { Studio } from './studio';

/** "33.2 MiB" → bytes. */
function bytesOf(text: string): number {
  const [, n, unit] = /([\d.]+)\s*(B|KiB|MiB|GiB)/.exec(text) ?? [];
  return Number(n) * 1024 ** ['B', 'KiB', 'MiB', 'GiB'].indexOf(unit);
}

test('the shell: a finished image is announced and Memory held follows it; the hub form survives switching sections; Unload frees the model', async ({ page }, testInfo) => {
  test.setTimeout(540_000);
  const studio = new Studio(page, testInfo);
  await studio.open();
  await studio.waitForBuiltinModel();
  const announcer = page.getByTestId('announcer');
  await expect(announcer).toHaveText('Built-in demo: shapes is loaded.');
  const memory = studio.gpuPanel.getByTestId('gpu-memory-in-use');
  const before = bytesOf(await memory.innerText());

  // one step (SwiftShader on a busy machine is slow; the helper's wait is shorter)
  await studio.goTo('Generate');
  const generate = page.getByTestId('section-generate');
  await generate.getByRole('textbox', { name: 'Prompt', exact: true }).fill('a large red circle');
  await generate.getByLabel('Steps').fill('1');
  await generate.getByLabel('Seed').fill('5');
  await generate.getByRole('button', { name: 'Generate' }).click();
  await expect(announcer).toHaveText('Generated 1 image, seed 5.', { timeout: 400_000 });
  await expect.poll(async () => bytesOf(await memory.innerText())).toBeGreaterThan(before); // the weights went to the GPU

  await studio.goTo('Models');
  const models = page.getByTestId('section-models');
  await models.getByLabel('Repository').fill('someone/some-model');
  await models.getByText('Hub endpoint').click();
  await models.getByLabel('Endpoint').fill('http://127.0.0.1:9/');
  await studio.goTo('Library');
  await studio.goTo('Models');
  await expect(models.getByLabel('Repository')).toHaveValue('someone/some-model');
  await expect(models.getByLabel('Endpoint')).toHaveValue('http://127.0.0.1:9/');

  const held = bytesOf(await memory.innerText());
  expect(held).toBeGreaterThan(0);
  await models.getByRole('button', { name: 'Unload Built-in demo: shapes' }).click();
  await expect(page.getByTestId('topbar-model')).toHaveText('No model');
  await expect(models.getByTestId('builtin-model').getByRole('button', { name: 'Load' })).toBeEnabled();
  await expect.poll(async () => bytesOf(await memory.innerText())).toBeLessThan(held);
  await studio.screenshot('unloaded');
  studio.expectNoErrors();
});
