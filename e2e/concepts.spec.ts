import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { Studio } from './studio';
import { FIXTURE_HUB } from './fixture-hub';
import { safetensors } from './safetensors-files';

test('teach a concept from three photos, find it in the library, use it in a prompt, export and import it', async ({ page }, testInfo) => {
  test.setTimeout(420_000);
  const studio = new Studio(page, testInfo);
  await studio.newConceptOnTinyModel(FIXTURE_HUB, 3);
  await expect(page.getByTestId('photos').getByRole('img')).toHaveCount(3);
  await studio.train({ token: '<my-cube>', classWord: 'cube', steps: 3, resolution: 64 });
  const training = page.getByTestId('training');
  await expect(training).toContainText('Trained at step 3', { timeout: 300_000 });
  await expect(training).toContainText('<my-cube> is in your library');
  await expect(page.getByTestId('training-previews').getByRole('img', { name: 'Preview at step 3' })).toBeVisible();
  const download = page.waitForEvent('download');
  await training.getByRole('button', { name: 'Save embedding' }).click();
  const embedding = await download;
  expect(embedding.suggestedFilename()).toBe('my-cube.safetensors');
  const embeddingPath = testInfo.outputPath('my-cube.safetensors');
  await embedding.saveAs(embeddingPath);
  const lora = page.waitForEvent('download');
  await training.getByRole('button', { name: 'Save LoRA (kohya / A1111 / ComfyUI)' }).click();
  expect((await lora).suggestedFilename()).toBe('my-cube-lora-kohya.safetensors');
  await studio.screenshot('trained');

  // Use it in a prompt: the token goes into the prompt and its chip lights up.
  await training.getByRole('button', { name: 'Use in a prompt' }).click();
  const generate = page.getByTestId('section-generate');
  await expect(generate.getByRole('textbox', { name: 'Prompt', exact: true })).toHaveValue('a photo of <my-cube>');
  await expect(generate.getByTestId('concept-chips').getByRole('button', { name: '<my-cube>' })).toHaveAttribute('aria-pressed', 'true');
  await expect(generate.getByLabel('LoRA strength of <my-cube>')).toBeVisible();
  const result = await studio.generate({ prompt: 'a photo of <my-cube> on a table', steps: 2, size: 64, seed: 7 });
  await expect(result).toContainText('seed 7');

  // The library keeps it across a reload, photos included.
  await page.reload();
  await studio.waitForGpu();
  await studio.goTo('Library');
  const card = page.getByTestId('concept').filter({ hasText: '<my-cube>' });
  await expect(card).toContainText('token embedding, 1 vector + LoRA on 32 layers');
  await expect(card).toContainText('3 photos');
  await expect(card.getByRole('img', { name: 'A training photo of <my-cube>' })).toBeVisible();
  await card.getByText('Photos (3)').click();
  await expect(card.getByRole('img', { name: /^Training photo \d of <my-cube>$/ })).toHaveCount(3);
  await studio.screenshot('library');

  // Imports are checked against the loaded model (the one chosen last, back by itself); refused files change nothing.
  await expect(page.getByTestId('topbar-model')).toHaveText('fixtures/tiny-sd', { timeout: 120_000 });
  await studio.goTo('Library');
  const library = page.getByTestId('section-library');
  const picker = library.getByLabel('Import concept files');
  await picker.setInputFiles([
    { name: 'my-cube.safetensors', mimeType: 'application/octet-stream', buffer: readFileSync(embeddingPath) },
    { name: 'evil.pt', mimeType: 'application/octet-stream', buffer: Buffer.from([0x80, 0x04, 0x95, 0x00]) },
  ]);
  const notice = page.getByTestId('library-notice');
  await expect(notice).toContainText('evil.pt');
  await expect(notice).toContainText('pickle');
  await expect(notice).toContainText('<my-cube>'); // the token is taken by the trained concept
  await expect(page.getByTestId('concept')).toHaveCount(1);

  // Renamed, the token is free again: the file imports as a second concept; then the first goes.
  await card.getByRole('button', { name: 'Rename' }).click();
  await card.getByLabel('New token for <my-cube>').fill('<old-cube>');
  await card.getByRole('button', { name: 'Rename' }).click();
  const renamed = page.getByTestId('concept').filter({ hasText: '<old-cube>' });
  await expect(renamed).toContainText('3 photos');
  await picker.setInputFiles([{ name: 'my-cube.safetensors', mimeType: 'application/octet-stream', buffer: readFileSync(embeddingPath) }]);
  await expect(notice).toContainText('Imported <my-cube>');
  await expect(page.getByTestId('concept').filter({ hasText: '<my-cube>' })).toContainText('imported from my-cube.safetensors');
  await renamed.getByRole('button', { name: 'Delete' }).click();
  await renamed.getByRole('button', { name: 'Delete <old-cube> for good' }).click();
  await expect(page.getByTestId('concept')).toHaveCount(1);

  // A LoRA with a LoHa layer waits for the person; imported without it, its text-encoder layer gets its own strength.
  const community = safetensors({
    'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight': [1, 32],
    'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight': [32, 1],
    'lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight': [1, 32],
    'lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight': [32, 1],
    'lora_unet_down_blocks_0_resnets_0_conv1.hada_w1_a': [2, 2],
  });
  await picker.setInputFiles([{ name: 'mixed.safetensors', mimeType: 'application/octet-stream', buffer: community }]);
  const partial = page.getByTestId('partial-import');
  await expect(partial).toContainText('LoHa layers: 1 ignored');
  await expect(page.getByTestId('concept')).toHaveCount(1);
  await partial.getByRole('button', { name: 'Import mixed.safetensors without them' }).click();
  await expect(partial).toHaveCount(0);
  const mixed = page.getByTestId('concept').filter({ hasText: '<mixed>' });
  await expect(mixed).toContainText('LoRA on 2 layers (1 of the text encoder)');
  await expect(mixed.getByLabel('Text-encoder strength of <mixed>')).toBeVisible();
  studio.expectNoErrors();
});

test('a training run survives closing the tab: reload, the model comes back by itself, resume to the end', async ({ page }, testInfo) => {
  test.setTimeout(900_000); // 3.6 min alone on SwiftShader; about twice that beside another suite
  const studio = new Studio(page, testInfo);
  await studio.newConceptOnTinyModel(FIXTURE_HUB, 3);
  await studio.train({ token: '<my-ball>', classWord: 'ball', steps: 8, resolution: 64 });
  // Checkpoints every 5 steps: wait until one is written, then close the page mid-run.
  await expect(page.getByTestId('training')).toContainText(/Step [67]\/8/, { timeout: 600_000 });
  await page.reload();
  await studio.waitForGpu();
  await studio.goTo('New concept');
  const training = page.getByTestId('training');
  await expect(training).toContainText('Training <my-ball> stopped at about step 5 of 8');
  // The studio reopens on the model chosen last (from the browser's cache), the one the run trains.
  await expect(page.getByTestId('topbar-model')).toHaveText('fixtures/tiny-sd', { timeout: 120_000 });
  await expect(page.getByTestId('photos').getByRole('img')).toHaveCount(3); // the photos came back from storage
  await training.getByRole('button', { name: 'Resume' }).click();
  // The first step shown after resuming is step 6: it goes on from the step-5 checkpoint, not from zero.
  // (The first training step in a fresh tab takes 40–50 s on SwiftShader.)
  await expect(training).toContainText(/Step \d\/8/, { timeout: 600_000 });
  expect(/Step (\d)\/8/.exec((await training.textContent()) ?? '')?.[1]).toBe('6');
  await expect(training).toContainText('Trained at step 8', { timeout: 600_000 });
  await studio.goTo('Library');
  await expect(page.getByTestId('concept').filter({ hasText: '<my-ball>' })).toContainText('trained 8 steps');
  studio.expectNoErrors();
});
