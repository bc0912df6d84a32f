/** The hub-like server Playwright starts (playwright.config.ts) serving the tiny-sd fixture. */
/** E2E_HUB_PORT: several checkouts can run the suite side by side. */
export const FIXTURE_HUB_PORT = Number(process.env.E2E_HUB_PORT ?? 4174);
export const FIXTURE_HUB = `http://127.0.0.1:${FIXTURE_HUB_PORT}`;
