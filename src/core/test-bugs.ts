// Deliberate bugs, for proving that `parley verify`'s checker catches what it claims to
// (docs/reliability.md). A bug is on only when PARLEY_TEST_BUG names it AND this module runs from
// the TypeScript sources: the production build (dist/, compiled to .js) reads no switch at all,
// so no setting can turn one on in a deployed server.

export type TestBug = 'ack-before-commit';

const FROM_SOURCES = import.meta.url.endsWith('.ts');

export const TEST_BUGS: readonly TestBug[] = ['ack-before-commit'];

/** Whether deliberate bugs can be turned on in this process at all. */
export const TEST_BUGS_POSSIBLE = FROM_SOURCES;

export function testBugOn(bug: TestBug): boolean {
  return FROM_SOURCES && process.env.PARLEY_TEST_BUG === bug;
}

/** The bug turned on in this process, if any: the server says so loudly when it starts. */
export function activeTestBug(): TestBug | null {
  return TEST_BUGS.find((bug) => testBugOn(bug)) ?? null;
}
