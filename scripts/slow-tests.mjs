// `node scripts/slow-tests.mjs [SECONDS=30] [test-results/vitest.json]`: the Vitest tests of the
// last `npm test` (its JSON report) that took longer than SECONDS, slowest first, and the total.
import { readFileSync } from 'node:fs';

const limit = Number(process.argv[2] ?? 30);
const report = JSON.parse(readFileSync(process.argv[3] ?? 'test-results/vitest.json', 'utf8'));
const tests = report.testResults.flatMap((file) =>
  file.assertionResults.map((t) => ({ file: file.name.replace(`${process.cwd()}/`, ''), title: t.fullName ?? t.title, seconds: (t.duration ?? 0) / 1000, status: t.status })),
);
const slow = tests.filter((t) => t.seconds > limit).sort((a, b) => b.seconds - a.seconds);
for (const t of slow) console.log(`${t.seconds.toFixed(1).padStart(7)} s  ${t.status.padEnd(7)} ${t.file} > ${t.title}`);
const total = tests.reduce((sum, t) => sum + t.seconds, 0);
console.log(`${slow.length} of ${tests.length} tests over ${limit} s; all tests together ${total.toFixed(0)} s`);
