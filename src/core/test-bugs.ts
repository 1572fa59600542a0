// Deliberate bugs, for proving that `parley verify`'s checker catches what it claims to
// (docs/reliability.md). A bug is on only when PARLEY_TEST_BUG names it AND this module runs from
// the TypeScript sources: the production build (dist/, compiled to .js) reads no switch at all,
// so no setting can turn one on in a deployed server.

export type TestBug = 'ack-before-commit';

const FROM_SOURCES = import.meta.url.endsWith('.ts');

export function testBugOn(bug: TestBug): boolean {
  return FROM_SOURCES && process.env.PARLEY_TEST_BUG === bug;
}
