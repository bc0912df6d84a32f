/** Drives the studio the way a person does, so specs read in the user's words. */
import { expect, type Locator, type Page, type TestInfo } from '@playwright/test';

export class Studio {
  readonly errors: string[] = [];
  readonly gpuPanel: Locator;

  constructor(
    readonly page: Page,
    private readonly testInfo: TestInfo,
  ) {
    this.gpuPanel = page.getByTestId('gpu-panel');
    page.on('console', (message) => {
      if (message.type() === 'error') this.errors.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => this.errors.push(`page error: ${error.message}`));
  }

  async open(): Promise<void> {
    await this.page.goto('/');
  }

  async waitForGpu(): Promise<void> {
    await expect(this.gpuPanel).toHaveAttribute('data-state', 'ready');
  }

  /** The built-in model is on the GPU (a fresh studio loads it by itself). */
  async waitForBuiltinModel(): Promise<void> {
    await expect(this.page.getByTestId('topbar-model')).toHaveText('Built-in demo: shapes', { timeout: 120_000 });
  }

  /** Every host the page and its workers send requests to, from now on. */
  recordRequestHosts(): Set<string> {
    const hosts = new Set<string>();
    this.page.context().on('request', (request) => {
      if (!request.url().startsWith('data:') && !request.url().startsWith('blob:')) hosts.add(new URL(request.url()).hostname);
    });
    return hosts;
  }

  adapterName(): Locator {
    return this.page.getByTestId('gpu-adapter');
  }

  async goTo(section: string): Promise<void> {
    await this.page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name: section }).click();
  }

  /** Release GPU, then its confirmation. */
  async releaseGpu(): Promise<void> {
    await this.gpuPanel.getByRole('button', { name: 'Release GPU' }).click();
    await this.gpuPanel.getByRole('button', { name: 'Release the GPU' }).click();
  }

  async reconnectGpu(): Promise<void> {
    await this.gpuPanel.getByRole('button', { name: 'Reconnect GPU' }).click();
  }

  /** Loads a model from a hub-like server (endpoint) by repo id, and waits until it is on the GPU. */
  async loadHubModel(repo: string, endpoint: string): Promise<void> {
    await this.goTo('Models');
    const models = this.page.getByTestId('section-models');
    await models.getByText('Hub endpoint').click();
    await models.getByLabel('Endpoint').fill(endpoint);
    await models.getByLabel('Repository').fill(repo);
    await models.getByRole('form', { name: 'Load from the hub' }).getByRole('button', { name: 'Load', exact: true }).click();
    await expect(this.page.getByTestId('current-model')).toContainText(`${repo} (hf:${new URL(endpoint).host}/${repo}@`, { timeout: 120_000 }); // the id names the endpoint and the commit
  }

  async generate(options: { prompt: string; steps?: number; size?: number; seed?: number }): Promise<Locator> {
    await this.goTo('Generate');
    const section = this.page.getByTestId('section-generate');
    await section.getByRole('textbox', { name: 'Prompt', exact: true }).fill(options.prompt);
    if (options.steps) await section.getByLabel('Steps').fill(String(options.steps));
    if (options.size) await section.getByLabel('Size').fill(String(options.size));
    if (options.seed !== undefined) await section.getByLabel('Seed').fill(String(options.seed));
    await section.getByRole('button', { name: 'Generate' }).click();
    const result = this.page.getByTestId('result');
    // Generate queues: wait for this generation's own result, not the last one's.
    if (options.seed !== undefined) await expect(result).toContainText(`seed ${options.seed}`, { timeout: 180_000 });
    await expect(this.page.getByTestId('generation-queue')).toHaveCount(0, { timeout: 180_000 });
    await expect(result.getByRole('img', { name: 'Generated image 1' })).toBeVisible({ timeout: 180_000 });
    return result;
  }

  /** Opens the studio on the tiny model from the local hub and starts a concept with `photos` photos. */
  async newConceptOnTinyModel(hub: string, photos: number): Promise<void> {
    await this.open();
    await this.waitForGpu();
    await this.loadHubModel('fixtures/tiny-sd', hub);
    await this.goTo('New concept');
    await this.addPhotos(photos);
  }

  /** Makes `count` small PNG photos in the page (coloured squares) and adds them to the concept. */
  async addPhotos(count: number): Promise<void> {
    const urls = await this.page.evaluate((n) => {
      return Array.from({ length: n }, (_, i) => {
        const c = document.createElement('canvas');
        c.width = 96;
        c.height = 80;
        const ctx = c.getContext('2d')!;
        ctx.fillStyle = `hsl(${i * 90}, 70%, 50%)`;
        ctx.fillRect(0, 0, 96, 80);
        ctx.fillStyle = '#fff';
        ctx.fillRect(20 + i * 10, 20, 30, 30);
        return c.toDataURL('image/png');
      });
    }, count);
    const files = urls.map((url, i) => ({ name: `photo-${i + 1}.png`, mimeType: 'image/png', buffer: Buffer.from(url.split(',')[1], 'base64') }));
    await this.page.getByTestId('section-new-concept').getByLabel('Add photos').setInputFiles(files);
  }

  async train(options: { token: string; classWord: string; steps: number; resolution: number }): Promise<void> {
    const section = this.page.getByTestId('section-new-concept');
    await section.getByLabel('Token', { exact: true }).fill(options.token);
    await section.getByLabel('What it is').fill(options.classWord);
    await section.getByLabel('Steps', { exact: true }).fill(String(options.steps));
    await section.getByLabel('Resolution').fill(String(options.resolution));
    await section.getByRole('button', { name: 'Train' }).click();
  }

  async screenshot(name: string): Promise<void> {
    await this.page.screenshot({ path: this.testInfo.outputPath(`${name}.png`), fullPage: true });
  }

  /** axe-core's serious and critical violations on the page as it is now, as "rule: target" lines. */
  async seriousAxeViolations(): Promise<string[]> {
    const { default: AxeBuilder } = await import('@axe-core/playwright');
    const { violations } = await new AxeBuilder({ page: this.page }).analyze();
    return violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')} (${n.failureSummary?.split('\n')[1]?.trim() ?? v.help})`));
  }

  /** How much wider than the viewport the page is (0 when nothing overflows sideways). */
  horizontalOverflow(): Promise<number> {
    return this.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  }

  expectNoErrors(): void {
    expect(this.errors, 'errors in the browser console').toEqual([]);
  }
}
