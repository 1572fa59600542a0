// Helpers of the web client's end-to-end tests: the built client (built first when missing or
// older than its sources), Debian's Chromium driven by playwright-core, people who register through
// the page, a switch that cuts a page's network, bounded waits, and screenshots on failure.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Locator,
  type Page,
  type WebSocketRoute,
} from 'playwright-core';
import { startTestServer, type TestServer } from '../../src/test-support/server.js';
import { sleep } from '../../src/test-support/wait.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
const WEB_DIST_INDEX = join(REPO, 'web', 'dist', 'index.html');
/** What the client bundle is built from: a change in any of them makes the build stale. */
const BUILD_INPUTS = ['web', 'src/sdk', 'src/protocol', 'src/core', 'package-lock.json'];
export const CHROMIUM = process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium';
/** Where failure screenshots go (git-ignored). */
export const RESULTS_DIR = join(REPO, 'test-results', 'web');
/** How long one expectation may take; generous, because two cores are shared with other tests. */
export const EXPECT_MS = 20_000;
const BUILD_MS = 180_000;

/**
 * Why the browser tests cannot run here, or null when they can. Without Chromium they are
 * skipped, saying so, except under CI=true, where that is a failure (.ci/run installs it).
 */
export function skipReason(): string | null {
  if (existsSync(CHROMIUM)) return null;
  const why = `${CHROMIUM} is missing: apt-get install chromium (or set PARLEY_CHROMIUM)`;
  if (process.env.CI === 'true') throw new Error(why);
  return why;
}

function newestMtimeMs(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'dist' || entry === 'node_modules') continue;
    newest = Math.max(newest, newestMtimeMs(join(path, entry)));
  }
  return newest;
}

function buildIsFresh(): boolean {
  if (!existsSync(WEB_DIST_INDEX)) return false;
  const built = statSync(WEB_DIST_INDEX).mtimeMs;
  return BUILD_INPUTS.every((p) => newestMtimeMs(join(REPO, p)) <= built);
}

/** A lock per checkout, so that test files running at once build the client only once. */
const LOCK = join(
  tmpdir(),
  `parley-web-build-${createHash('sha256').update(REPO).digest('hex').slice(0, 12)}.lock`,
);

function tryLock(): boolean {
  try {
    closeSync(openSync(LOCK, 'wx'));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // A lock left by a killed run is older than any build takes.
    if (Date.now() - statSync(LOCK).mtimeMs > BUILD_MS) rmSync(LOCK, { force: true });
    return false;
  }
}

/** Builds web/dist with Vite when it is missing or older than its sources. */
export async function ensureWebBuilt(): Promise<void> {
  const deadline = Date.now() + BUILD_MS;
  while (!buildIsFresh()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the web client build');
    if (!tryLock()) {
      await sleep(250);
      continue;
    }
    try {
      if (!buildIsFresh()) await runViteBuild();
    } finally {
      rmSync(LOCK, { force: true });
    }
  }
}

function runViteBuild(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        join(REPO, 'node_modules/vite/bin/vite.js'),
        'build',
        '--config',
        'web/vite.config.ts',
        '--logLevel',
        'warn',
      ],
      { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_MS);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`vite build failed (${signal ?? code})`));
    });
  });
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
    timeout: 60_000,
  });
}

/**
 * Cuts one browser context's network: the page's HTTP requests fail (`setOffline`) and its
 * WebSockets, which offline emulation leaves open, are closed and refused until `online()`. The
 * sockets still go to the real server, through Playwright's WebSocket routing.
 */
export class NetworkSwitch {
  #offline = false;
  readonly #sockets = new Set<WebSocketRoute>();
  readonly #context: BrowserContext;

  private constructor(context: BrowserContext) {
    this.#context = context;
  }

  static async install(context: BrowserContext): Promise<NetworkSwitch> {
    const sw = new NetworkSwitch(context);
    await context.routeWebSocket(/\/ws$/, (ws) => sw.#route(ws));
    return sw;
  }

  #route(ws: WebSocketRoute): void {
    if (this.#offline) {
      void ws.close({ code: 4000, reason: 'network cut (test)' });
      return;
    }
    ws.connectToServer();
    this.#sockets.add(ws);
    ws.onClose((code, reason) => {
      this.#sockets.delete(ws);
      void ws.close({ ...(code !== undefined ? { code } : {}), ...(reason ? { reason } : {}) });
    });
  }

  /** How many sockets of this context are open now. */
  get openSockets(): number {
    return this.#sockets.size;
  }

  async offline(): Promise<void> {
    this.#offline = true;
    await this.#context.setOffline(true);
    for (const ws of [...this.#sockets]) {
      this.#sockets.delete(ws);
      await ws.close({ code: 4000, reason: 'network cut (test)' });
    }
  }

  async online(): Promise<void> {
    this.#offline = false;
    await this.#context.setOffline(false);
  }
}

export interface Person {
  readonly name: string;
  readonly context: BrowserContext;
  readonly page: Page;
}

export interface PersonOptions {
  readonly viewport?: { width: number; height: number };
  readonly network?: boolean;
}

/** A fresh browser context (its own storage) whose page registers `name` through the form. */
export async function registerPerson(
  browser: Browser,
  baseUrl: string,
  name: string,
  options: PersonOptions = {},
): Promise<Person & { network: NetworkSwitch | null }> {
  const context = await browser.newContext({
    baseURL: baseUrl,
    viewport: options.viewport ?? { width: 1100, height: 760 },
  });
  context.setDefaultTimeout(EXPECT_MS);
  const network = options.network ? await NetworkSwitch.install(context) : null;
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[${name} page error]`, err.message));
  // The client's own warnings (failed catch-ups, refused requests) explain a failure.
  page.on('console', (m) => {
    if (m.type() === 'warning' || m.type() === 'error') {
      console.error(`[${name} console.${m.type()}]`, m.text());
    }
  });
  await page.goto('/');
  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Register' }).click();
  await page.getByRole('button', { name: 'New', exact: true }).waitFor();
  await waitOnline(page);
  return { name, context, page, network };
}

/** Waits until the page's client has a live link (the connection dot says so). */
export async function waitOnline(page: Page): Promise<void> {
  await page.locator('.conn-online').waitFor();
}

/** The texts of a page's message bubbles, pending ones included, in screen order. */
export function messageTexts(page: Page): Promise<string[]> {
  return page.locator('.messages > li.message:not(.system) .text').allTextContents();
}

/** Polls until `read()` gives `expected` (deep-equal), or fails showing the last value. */
export async function expectEventually<T>(
  what: string,
  read: () => Promise<T>,
  expected: T,
  timeoutMs = EXPECT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (let i = 0; Date.now() < deadline && i < 10_000; i++) {
    last = await read();
    if (JSON.stringify(last) === JSON.stringify(expected)) return;
    await sleep(100);
  }
  throw new Error(
    `${what}: expected ${JSON.stringify(expected)}, still ${JSON.stringify(last)} after ${timeoutMs} ms`,
  );
}

/** Which of the sidebar's menus holds an action ("Search" is always shown). */
const SIDEBAR_MENUS: Readonly<Record<string, 'New' | 'Menu'>> = {
  'New chat': 'New',
  'New group': 'New',
  'Join with code': 'New',
  Contacts: 'Menu',
  Profile: 'Menu',
  Account: 'Menu',
  'Log out': 'Menu',
};

/** Runs one of the sidebar's actions: opens the menu that holds it, then picks it. */
export async function sidebarAction(page: Page, action: string): Promise<void> {
  const actions = page.locator('.sidebar-actions');
  const menu = SIDEBAR_MENUS[action];
  if (menu) await actions.getByRole('button', { name: menu, exact: true }).click();
  await actions.getByRole('button', { name: action, exact: true }).click();
}

/** Opens (or creates) the direct chat with `username` through "New chat". */
export async function startChat(page: Page, username: string): Promise<void> {
  await sidebarAction(page, 'New chat');
  await page.getByLabel('Username').fill(username);
  await page.getByRole('button', { name: 'Start chat' }).click();
  await page.getByRole('heading', { name: username, level: 2 }).waitFor();
}

/** Types `text` in the open chat's message box and sends it with Enter. */
export async function say(page: Page, text: string): Promise<void> {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
}

/** The message whose own text (not a quote of it) is `text`. */
export function messageBubble(page: Page, text: string): Locator {
  return page
    .locator('.messages > li.message')
    .filter({ has: page.locator('.bubble > .text').getByText(text, { exact: true }) });
}

/** Opens a message's actions menu with the keyboard and picks one action. */
export async function messageAction(page: Page, text: string, action: string): Promise<void> {
  const toggle = messageBubble(page, text).getByRole('button', { name: 'Message actions' });
  await toggle.focus();
  await page.keyboard.press('Enter');
  const menu = messageBubble(page, text).getByRole('group', { name: 'Message actions' });
  await menu.waitFor();
  await menu.getByRole('button', { name: action, exact: true }).click();
}

/** A notice (the client's error or info toast, or one inside a dialog) saying `text`. */
export function notice(page: Page, text: string): Locator {
  return page.locator('.notice, .dialog-notice').filter({ hasText: text });
}

/** The own message bubble with this text. */
export function ownMessage(page: Page, text: string): Locator {
  return page.locator('.messages > li.message.mine').filter({ hasText: text });
}

/**
 * Runs a test body; when it fails, saves a full-page screenshot of each page under
 * test-results/web/ and prints where, then rethrows.
 */
export async function screenshotsOnFailure(
  test: string,
  pages: () => Record<string, Page>,
  body: () => Promise<void>,
): Promise<void> {
  try {
    await body();
  } catch (err) {
    mkdirSync(RESULTS_DIR, { recursive: true });
    const slug = test.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
    for (const [who, page] of Object.entries(pages())) {
      const file = join(RESULTS_DIR, `${slug}-${who}.png`);
      try {
        await page.screenshot({ path: file, fullPage: true, timeout: 10_000 });
        console.error(`web test failed: screenshot of ${who}'s page: ${file}`);
      } catch (shotErr) {
        console.error(`web test failed: no screenshot of ${who}'s page:`, shotErr);
      }
    }
    throw err;
  }
}

/** What a browser suite's tests get: its server, its Chromium, and the pages to screenshot. */
export interface BrowserSuite {
  readonly server: TestServer;
  readonly browser: Browser;
  /** The pages a failing test screenshots; tests add theirs (shared by the suite's tests). */
  readonly pages: Record<string, Page>;
  /** registerPerson on this suite's server, its page added to `pages` under its name. */
  readonly person: (
    name: string,
    options?: PersonOptions,
  ) => Promise<Person & { network: NetworkSwitch | null }>;
}

/**
 * Declares a suite of browser tests (skipped, saying why, where they cannot run): before them it
 * builds the web client, starts a test server and launches Chromium, and after them closes both.
 * `body` declares the tests with the given `test`, whose body runs under `screenshotsOnFailure`
 * (named `shot`) and gets the suite's server, browser and pages.
 */
export function describeInBrowser(
  name: string,
  body: (
    test: (title: string, shot: string, run: (suite: BrowserSuite) => Promise<void>) => void,
  ) => void,
): void {
  const skip = skipReason();
  describe(name, { skip: skip ?? false, timeout: 180_000 }, () => {
    let server: TestServer;
    let browser: Browser;
    const pages: Record<string, Page> = {};

    before(async () => {
      await ensureWebBuilt();
      server = await startTestServer();
      browser = await launchChromium();
    });

    after(async () => {
      await browser?.close();
      await server?.close();
    });

    body((title, shot, run) => {
      test(title, async () => {
        await screenshotsOnFailure(
          shot,
          () => pages,
          () =>
            run({
              server,
              browser,
              pages,
              person: async (name, options) => {
                const p = await registerPerson(browser, server.url, name, options);
                pages[name] = p.page;
                return p;
              },
            }),
        );
      });
    });
  });
}
