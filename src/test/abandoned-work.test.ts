import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as tf from '../gpu/tf';
import { newScope, runInScope } from './test-scope';

interface JsonReport {
  testResults: Array<{ assertionResults: Array<{ title: string; status: string; failureMessages: string[] }> }>;
}

/** Runs leak-cascade.fixture.ts in a Vitest of its own (this repository's config, that file only, on the CPU backend). */
function runFixture(): { output: string; results: JsonReport['testResults'][number]['assertionResults'] } {
  const root = resolve(import.meta.dirname, '../..');
  const dir = mkdtempSync(join(tmpdir(), 'leak-cascade-'));
  try {
    const config = join(dir, 'vitest.config.ts');
    writeFileSync(
      config,
      `import base from ${JSON.stringify(join(root, 'vite.config.ts'))};\n` +
        `export default { ...base, root: ${JSON.stringify(root)}, test: { ...base.test, include: ['src/test/leak-cascade.fixture.ts'], setupFiles: ['src/test/setup-scopes.ts'] } };\n`,
    );
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));
    const report = join(dir, 'report.json');
    const run = spawnSync('npx', ['vitest', 'run', '--config', config, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], { cwd: root, env, encoding: 'utf8' });
    const results = (JSON.parse(readFileSync(report, 'utf8')) as JsonReport).testResults.flatMap((r) => r.assertionResults);
    return { output: stripVTControlCharacters(`${run.stdout}${run.stderr}`), results };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("a failed test's leftover work", () => {
  it('is stopped, and kept out of the next test’s leak check (a test that times out beside another)', () => {
    const { output, results } = runFixture();
    expect(results.map((r) => [r.title, r.status]), output).toEqual([
      ['times out, its body still making tensors', 'failed'],
      ['sees only its own tensors in its leak check', 'passed'],
    ]);
    expect(output).toMatch(/times out, its body still making tensors\nError: Test timed out in 300ms/);
  });

  it('stops at its next op with Cancelled, and its frees are left out of tf.memory()', () => {
    const scope = newScope('an earlier test');
    const kept = runInScope(scope, () => tf.zeros([3]));
    scope.abandoned = true;
    const before = tf.memory();
    runInScope(scope, () => kept.dispose());
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    expect(() => runInScope(scope, () => tf.zeros([1]))).toThrow(/leftover work of the failed test "an earlier test"/);
    const x = tf.ones([2]);
    expect(() => runInScope(scope, () => x.add(1))).toThrow(/failed test/);
    x.dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
  });

  it('of a test that passed is counted as ever, wherever it runs', async () => {
    const scope = newScope('a passing test');
    const before = tf.memory().numTensors;
    const later = runInScope(scope, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return tf.zeros([2]);
    });
    const t = await later;
    expect(tf.memory().numTensors).toBe(before + 1);
    runInScope(scope, () => t.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });
});
