/**
 * `node scripts/run-ts.mjs src/model/sources/testing/serve-fixture.ts PORT`: serves the tiny-sd
 * fixture as the hub repo `fixtures/tiny-sd` on 127.0.0.1:PORT until killed (the e2e tests' hub),
 * and the tiny feature models as `fixtures/clip-tiny` and `fixtures/dinov2-tiny`.
 */
import { fileURLToPath } from 'node:url';
import { startHubServer } from './hub-server';

export async function main(args: string[]): Promise<number> {
  const port = Number(args[0] ?? 4174);
  const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
  const features = ['clip-tiny', 'dinov2-tiny'].map((name) => ({ repo: `fixtures/${name}`, root: fixture(`feature-models/${name}`) }));
  const server = await startHubServer(fixture('tiny-sd'), 'fixtures/tiny-sd', 'main', port, features);
  console.log(`tiny-sd fixture hub on ${server.baseUrl}`);
  return new Promise<number>(() => {});
}
