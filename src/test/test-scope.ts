/**
 * Which test a piece of work belongs to. Each test runs in an async context of its own (entered
 * in a beforeEach, which its body inherits), so work a test started is told from the next test's
 * even when it outlives its test: a timed-out test's body runs on after Vitest has moved on.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface TestScope {
  readonly name: string;
  /** Its test failed (a timeout included): whatever it still runs is abandoned work. */
  abandoned: boolean;
}

const scopes = new AsyncLocalStorage<TestScope | undefined>();

export function newScope(name: string): TestScope {
  return { name, abandoned: false };
}

/** Enters `scope` for the rest of this async context: a beforeEach's, which its test inherits. */
export function enterScope(scope: TestScope): void {
  scopes.enterWith(scope);
}

/** Leaves the test's scope (in an afterEach): the hooks and tests that follow start outside it. */
export function leaveScope(): void {
  scopes.enterWith(undefined);
}

/** Runs `fn` (and what it starts) in `scope`; for the tests of these helpers. */
export function runInScope<T>(scope: TestScope, fn: () => T): T {
  return scopes.run(scope, fn);
}

/** The scope of the work running now; undefined in file-level hooks and outside tests. */
export function currentScope(): TestScope | undefined {
  return scopes.getStore();
}
