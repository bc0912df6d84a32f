/**
 * What leaves the page: the built studio carries its Content-Security-Policy (the page's <meta>,
 * the engine worker's header) and runs under it,
 * and while it trains on the built-in model and generates, every request of the page and its
 * engine worker stays on this machine and none carries the photos' bytes.
 */
import { encode } from 'fast-png';
import { expect, test, type Request, type Response } from '@playwright/test';
import { CONTENT_SECURITY_POLICY } from '../src/common/content-security-policy';
import { Studio } from './studio';

/** Noisy photos, so any run of their bytes is theirs alone. */
function photo(n: number): { png: Buffer; pixels: Uint8Array } {
  const [width, height] = [72, 64];
  let seed = 1234 + n;
  const pixels = new Uint8Array(width * height * 4).map((_, i) => (i % 4 === 3 ? 255 : (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24));
  return { png: Buffer.from(encode({ width, height, data: pixels, channels: 4, depth: 8 })), pixels };
}

/** Stretches of a photo a request could carry: its file, base64 of it, its pixels (RGBA, RGB). */
function fingerprints(p: { png: Buffer; pixels: Uint8Array }): Buffer[] {
  const rgb = Buffer.from(p.pixels.filter((_, i) => i % 4 !== 3));
  return [p.png.subarray(64, 128), Buffer.from(p.png.subarray(60, 120).toString('base64')), Buffer.from(p.pixels.subarray(4096, 4160)), rgb.subarray(3000, 3048)];
}

const LOCAL = new Set(['127.0.0.1', 'localhost']);

test('the built page has its CSP, and training and generating send nothing off this machine, photos least of all', async ({ page }, testInfo) => {
  test.setTimeout(1_500_000); // minutes alone on SwiftShader; many more on a shared machine
  const studio = new Studio(page, testInfo);
  const requests: Request[] = [];
  const workerScripts: Response[] = [];
  page.context().on('response', (r) => /\/assets\/worker-[^/]*\.js$/.test(r.url()) && workerScripts.push(r));
  const sockets: string[] = [];
  page.context().on('request', (r) => requests.push(r)); // the page's and its workers'
  page.on('websocket', (ws) => sockets.push(ws.url()));
  await page.addInitScript(() => {
    const seen: string[] = ((window as { cspViolations?: string[] }).cspViolations = []);
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
  });

  await studio.open();
  await expect(page.locator('meta[http-equiv="Content-Security-Policy"]')).toHaveAttribute('content', CONTENT_SECURITY_POLICY);
  await studio.waitForBuiltinModel();
  expect(workerScripts).toHaveLength(1); // the engine worker, held to the header it came with
  expect(await workerScripts[0].headerValue('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);

  const photos = [0, 1, 2].map(photo);
  await studio.goTo('New concept');
  const section = page.getByTestId('section-new-concept');
  await section.getByLabel('Add photos').setInputFiles(photos.map((p, i) => ({ name: `private-${i}.png`, mimeType: 'image/png', buffer: p.png })));
  await expect(page.getByTestId('photos').getByRole('img')).toHaveCount(3);
  await section.getByLabel('Token', { exact: true }).fill('<private-cube>');
  await section.getByLabel('What it is').fill('cube');
  await section.getByLabel('Method').selectOption('ti');
  await section.getByLabel('Steps', { exact: true }).fill('2');
  await section.getByRole('button', { name: 'Train' }).click();
  await expect(page.getByTestId('training')).toContainText('Trained at step 2', { timeout: 1_200_000 });
  const result = await studio.generate({ prompt: 'a photo of <private-cube>', steps: 2, seed: 5 });
  await expect(result).toContainText('seed 5');
  await studio.screenshot('private-generated');

  expect(requests.length).toBeGreaterThan(0);
  const offMachine = requests.map((r) => r.url()).filter((url) => !/^(data|blob):/.test(url) && !LOCAL.has(new URL(url).hostname));
  expect(offMachine, 'requests that leave 127.0.0.1').toEqual([]);
  expect(sockets, 'websockets').toEqual([]);
  const marks = photos.flatMap(fingerprints);
  const carrying = requests.filter((r) => {
    const body = r.postDataBuffer();
    return body !== null && marks.some((m) => body.includes(m));
  });
  expect(carrying.map((r) => r.url()), 'requests that carry photo bytes').toEqual([]);
  expect(await page.evaluate(() => (window as { cspViolations?: string[] }).cspViolations)).toEqual([]);
  studio.expectNoErrors();
});
