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

  adapterName(): Locator {
    return this.page.getByTestId('gpu-adapter');
  }

  async goTo(section: string): Promise<void> {
    await this.page.getByRole('navigation', { name: 'Sections' }).getByRole('button', { name: section }).click();
  }

  async releaseGpu(): Promise<void> {
    await this.gpuPanel.getByRole('button', { name: 'Release GPU' }).click();
  }

  async reconnectGpu(): Promise<void> {
    await this.gpuPanel.getByRole('button', { name: 'Reconnect GPU' }).click();
  }

  async screenshot(name: string): Promise<void> {
    await this.page.screenshot({ path: this.testInfo.outputPath(`${name}.png`), fullPage: true });
  }

  expectNoErrors(): void {
    expect(this.errors, 'errors in the browser console').toEqual([]);
  }
}
