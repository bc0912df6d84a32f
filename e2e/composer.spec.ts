import { readFileSync } from 'node:fs';
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { encode } from 'fast-png';
import { parseParameters, readPngParameters } from '../src/library/png-parameters';
import { Studio } from './studio';

/** The `parameters` text of a PNG, found by walking its chunks byte by byte (not the studio's reader). */
function tEXtParameters(png: Buffer): string | null {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
  for (let at = 8; at + 12 <= png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const body = png.subarray(at + 8, at + 8 + length);
    const prefix = Buffer.from('parameters\0', 'latin1');
    if (type === 'tEXt' && body.subarray(0, prefix.length).equals(prefix)) return body.subarray(prefix.length).toString('latin1');
    at += 12 + length;
  }
  return null;
}

/** Drops a file on `target` the way a browser does: a DataTransfer holding it, dragenter/over/drop events. */
async function dropFile(page: Page, target: Locator, name: string, bytes: Buffer): Promise<void> {
  const dataTransfer = await page.evaluateHandle(
    ({ name, data }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(data)], name, { type: 'image/png' }));
      return dt;
    },
    { name, data: [...bytes] },
  );
  for (const type of ['dragenter', 'dragover', 'drop']) await target.dispatchEvent(type, { dataTransfer });
}

/** Exactly as AUTOMATIC1111 1.10 writes it, with keys the studio ignores. */
const A1111 = [
  'a watercolor fox in the snow, <lora:add_detail:0.5>',
  'Negative prompt: lowres, blurry',
  'Steps: 12, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 3141592, Size: 128x128, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Clip skip: 2, Version: v1.10.1',
].join('\n');

test('a saved PNG carries its settings, and dropping it (or one A1111 wrote) on the composer fills the form', async ({ page }, testInfo) => {
  test.setTimeout(420_000);
  const studio = new Studio(page, testInfo);
  await studio.open();
  await studio.waitForGpu();
  await studio.waitForBuiltinModel();
  const result = await studio.generate({ prompt: 'a large red circle, on a blue background', steps: 2, size: 64, seed: 42 });
  await expect(result).toContainText('seed 42');
  const download = page.waitForEvent('download');
  await result.getByRole('button', { name: 'Save PNG' }).click();
  const saved = await download;
  expect(saved.suggestedFilename()).toBe('studio-42.png');
  const png = readFileSync(await saved.path());

  // The studio's reader and a byte-level walk find the same A1111 infotext.
  const text = tEXtParameters(png);
  expect(text).toBe(readPngParameters(new Uint8Array(png)));
  expect(text).toContain('Steps: 2, Sampler: DDIM, CFG scale: 5, Seed: 42, Size: 64x64, Model: shapes-sd');
  expect(parseParameters(text!)).toMatchObject({ prompt: 'a large red circle, on a blue background', seed: 42, steps: 2, sampler: 'DDIM', width: 64, height: 64 });

  // Change the form, then drop the PNG back: the form holds its settings again.
  const section = page.getByTestId('section-generate');
  const composer = section.getByTestId('composer');
  await section.getByRole('textbox', { name: 'Prompt', exact: true }).fill('something else');
  await section.getByLabel('Steps').fill('9');
  await section.getByLabel('Seed').fill('');
  await section.getByLabel('Sampler').selectOption('euler');
  await dropFile(page, composer, 'studio-42.png', png);
  await expect(section.getByTestId('fill-notes')).toContainText('Settings read from studio-42.png.');
  await expect(section.getByRole('textbox', { name: 'Prompt', exact: true })).toHaveValue('a large red circle, on a blue background');
  await expect(section.getByLabel('Steps')).toHaveValue('2');
  await expect(section.getByLabel('Seed')).toHaveValue('42');
  await expect(section.getByLabel('Each generation')).toHaveValue('fixed');
  await expect(section.getByLabel('Sampler')).toHaveValue('ddim');
  await expect(section.getByLabel('Size')).toHaveValue('64');
  await expect(section.getByLabel('Guidance')).toHaveValue('5');

  // An A1111-written PNG (made here with fast-png's own text chunk): what applies fills, the rest is named.
  const a1111 = Buffer.from(encode({ width: 8, height: 8, data: new Uint8Array(8 * 8 * 4).fill(200), channels: 4, depth: 8, text: { parameters: A1111 } }));
  await dropFile(page, composer, '00012-3141592.png', a1111);
  const notes = section.getByTestId('fill-notes');
  await expect(notes).toContainText('Settings read from 00012-3141592.png.');
  await expect(section.getByRole('textbox', { name: 'Prompt', exact: true })).toHaveValue('a watercolor fox in the snow');
  await expect(section.getByLabel('Negative prompt')).toHaveValue('lowres, blurry');
  await expect(section.getByLabel('Steps')).toHaveValue('12');
  await expect(section.getByLabel('Guidance')).toHaveValue('6.5');
  await expect(section.getByLabel('Seed')).toHaveValue('3141592');
  await expect(section.getByLabel('Size')).toHaveValue('128');
  await expect(section.getByLabel('Sampler')).toHaveValue('ddim'); // DPM++ 2M is not in the studio: kept
  await expect(notes).toContainText('LoRA not in your library, left out: add_detail.');
  await expect(notes).toContainText('Sampler “DPM++ 2M” is not in the studio');
  await expect(notes).toContainText('Made with the model “v1-5-pruned-emaonly”; shapes-sd is loaded');
  await expect(notes).toContainText('Ignored: Schedule type, Model hash, Clip skip, Version.');

  // The form survives switching sections.
  await studio.goTo('Library');
  await studio.goTo('Generate');
  await expect(section.getByRole('textbox', { name: 'Prompt', exact: true })).toHaveValue('a watercolor fox in the snow');
  await expect(section.getByLabel('Seed')).toHaveValue('3141592');
  await studio.screenshot('composer-filled-from-a1111');
  const axe = await new AxeBuilder({ page }).include('[data-testid="section-generate"]').analyze();
  expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.nodes.map((n) => n.target).join(' ')}`)).toEqual([]);
  studio.expectNoErrors();
});

/** A kohya/A1111 textual-inversion file: `emb_params`, one vector as wide as the built-in model's text encoder (64). */
function embeddingFile(): Buffer {
  const header = JSON.stringify({ emb_params: { dtype: 'F32', shape: [1, 64], data_offsets: [0, 256] } }).padEnd(80, ' ');
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([size, Buffer.from(header), Buffer.from(new Float32Array(64).fill(0.01).buffer)]);
}

test('keyboard only: a concept from the autocomplete, Ctrl+Enter queues, a waiting job is cancelled, an image appears', async ({ page }, testInfo) => {
  test.setTimeout(420_000);
  const studio = new Studio(page, testInfo);
  await studio.open();
  await studio.waitForGpu();
  await studio.waitForBuiltinModel();
  await studio.goTo('Library');
  await page.getByTestId('section-library').getByLabel('Import concept files').setInputFiles([{ name: 'teal-star.safetensors', mimeType: 'application/octet-stream', buffer: embeddingFile() }]);
  await expect(page.getByTestId('library-notice')).toContainText('Imported teal-star.'); // the token a file without one gets: its name

  // From here on, no mouse: focus moves and keys are pressed.
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name: 'Generate' }).focus();
  await page.keyboard.press('Enter');
  const section = page.getByTestId('section-generate');
  const prompt = section.getByRole('textbox', { name: 'Prompt', exact: true });
  await prompt.focus();
  await page.keyboard.type('a photo of tea');
  const options = section.getByRole('listbox', { name: 'Concept tokens' });
  await expect(options.getByRole('option')).toHaveText(['teal-star embedding']);
  await expect(prompt).toHaveAttribute('aria-activedescendant', (await options.getByRole('option').first().getAttribute('id'))!);
  await studio.screenshot('composer-autocomplete');
  await page.keyboard.press('Enter');
  await page.keyboard.type('on grass');
  await expect(prompt).toHaveValue('a photo of teal-star on grass');
  await expect(options).toBeHidden();
  await expect(section.getByTestId('used-concepts')).toContainText('teal-star embedding');
  await expect(section.getByTestId('token-count')).toContainText('8 / 77 tokens'); // start, a photo of, the concept's one vector, on grass, end: not teal - star

  await section.getByLabel('Steps').focus();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('2');
  await section.getByLabel('Seed').focus();
  await page.keyboard.type('7');
  await page.keyboard.press('Control+Enter');
  await page.keyboard.press('Control+Enter');
  const jobs = section.getByTestId('queued-generation');
  await expect(jobs).toHaveCount(2);
  await expect(jobs.nth(0)).toContainText('seed 7');
  await expect(jobs.nth(1)).toContainText('seed 7 · waiting');
  await studio.screenshot('composer-queue');
  await section.getByRole('button', { name: 'Cancel generation 2: “a photo of teal-star on grass”' }).focus();
  await page.keyboard.press('Enter');
  await expect(jobs).toHaveCount(1);
  const result = page.getByTestId('result');
  await expect(result.getByRole('img', { name: 'Generated image 1' })).toBeVisible({ timeout: 300_000 }); // the first generation compiles the shaders
  await expect(result).toContainText('seed 7');
  await expect(result.getByRole('status')).toHaveText('Done: 1 image of “a photo of teal-star on grass”.');
  await expect(jobs).toHaveCount(0);
  await expect(section.getByRole('button', { name: 'Prompt history (1)' }).or(section.getByText('Prompt history (1)'))).toBeVisible();
  await studio.screenshot('composer-result');
  studio.expectNoErrors();
});
