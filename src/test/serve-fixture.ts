/**
 * `node scripts/run-ts.mjs src/model/sources/testing/serve-fixture.ts PORT`: serves the tiny-sd
 * fixture as the hub repo `fixtures/tiny-sd` on 127.0.0.1:PORT until killed (the e2e tests' hub).
 */
import { fileURLToPath } from 'node:url';
import { startHubServer } from './hub-server';

export async function main(args: string[]): Promise<number> {
  const port = Number(args[0] ?? 4174);
  const server = await startHubServer(fileURLToPath(new URL('./fixtures/tiny-sd', import.meta.url)), 'fixtures/tiny-sd', 'main', port);
  console.log(`tiny-sd fixture hub on ${server.baseUrl}`);
  return new Promise<number>(() => {});
}
