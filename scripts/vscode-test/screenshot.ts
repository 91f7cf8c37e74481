// Saves a PNG of the page under test/ui/screenshots/ (gitignored) for people to look at after a run.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { REPO_ROOT } from './paths';

export const SCREENSHOTS_DIR = join(REPO_ROOT, 'test', 'ui', 'screenshots');

/** Returns the file written, `test/ui/screenshots/<name>.png`. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS_DIR, { recursive: true });
  const path = join(SCREENSHOTS_DIR, `${name}.png`);
  await page.screenshot({ path });
  return path;
}
