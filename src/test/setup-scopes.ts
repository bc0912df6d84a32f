/**
 * Vitest setup (imported by setup-webgpu.ts): each test runs in a scope of its own, and a failed
 * (or timed-out) test's leftover work is stopped and kept out of the next tests' leak checks
 * (abandoned-work.ts).
 */
import { afterEach, beforeEach } from 'vitest';
import { isolateAbandonedWork } from './abandoned-work';
import { enterScope, leaveScope, newScope } from './test-scope';

isolateAbandonedWork();
beforeEach((context) => {
  const scope = newScope(context.task.name);
  enterScope(scope);
  // After its afterEach hooks, so a failed test's own cleanup still runs.
  context.onTestFinished(({ task }) => {
    scope.abandoned = task.result?.state === 'fail';
  });
});
afterEach(() => leaveScope());
