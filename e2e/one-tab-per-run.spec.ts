/**
 * A training run trains in one tab: a second tab of the studio (same browser profile, so the same
 * IndexedDB and Web Locks) offers the run as stopped, but discarding it there is refused with
 * RunActiveElsewhere while the first tab goes on training (Resume takes the same lock, but needs
 * the model on the second tab's GPU, which a software GPU busy training does not give in time).
 */
import { expect, test, type Page } from '@playwright/test';
import { sampleConcept } from '../src/world/sample-concepts';
import { Studio } from './studio';

test('a second tab that discards a running run is told it is training elsewhere, and the run trains on', async ({ page, context }, testInfo) => {
  test.setTimeout(900_000);
  const first = new Studio(page, testInfo);
  await first.open();
  await first.waitForBuiltinModel();
  const concept = sampleConcept('teal-heart')!;
  await first.goTo('New concept');
  const form = page.getByTestId('section-new-concept');
  await form.getByRole('button', { name: `Try ${concept.title}` }).click();
  await expect(page.getByTestId('photos').getByRole('img')).toHaveCount(5);
  await form.getByLabel('Method').selectOption('ti');
  await form.getByLabel('Steps', { exact: true }).fill('500');
  await form.getByRole('button', { name: 'Train' }).click();
  const training = page.getByTestId('training');
  await expect(training).toBeVisible();
  const runLocks = (p: Page) => p.evaluate(async () => ((await navigator.locks.query()).held ?? []).map((l) => l.name).filter((n) => n?.startsWith('studio-run-')));
  await expect.poll(() => runLocks(page)).toHaveLength(1); // taken before the run is stored

  // The second tab needs no GPU for this: New concept offers a stopped run with or without a model.
  const other = await context.newPage();
  const second = new Studio(other, testInfo);
  await second.open();
  await second.goTo('New concept');
  const offered = other.getByTestId('training');
  await expect(offered).toContainText(`Training ${concept.token} stopped`); // at about step N, or before its first checkpoint
  await offered.getByRole('button', { name: 'Discard' }).click();
  const refused = other.getByRole('alert');
  await expect(refused).toContainText(`Training ${concept.token} is open in another tab or window of the studio.`);
  await expect(refused).toContainText('pause it there, or close that tab');
  await second.screenshot('second-tab');

  // The first tab trains on, holding its run.
  await expect(training.getByRole('progressbar', { name: 'Training' })).toBeVisible();
  await expect(page.getByRole('alert')).toHaveCount(0);
  expect(await runLocks(page)).toHaveLength(1);
  first.expectNoErrors();
  second.expectNoErrors();
});
