import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { describe, it } from 'vitest';

/** Debian's Chromium, as CI installs it. */
export const CHROMIUM = '/usr/bin/chromium';

/** Launches headless Chromium with the flags the house standard names. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}

/**
 * The `describe` for a browser suite: the real one when Chromium is installed; otherwise `describe.skip`
 * with a visible notice, and under CI=true a registered failing test as well.
 */
export function chromiumSuite(label: string): typeof describe.skip {
  if (existsSync(CHROMIUM)) return describe;
  if (process.env.CI === 'true') {
    describe(label, () => {
      it('needs Chromium', () => {
        throw new Error(`Chromium is required under CI=true, but ${CHROMIUM} does not exist (apt-get install chromium)`);
      });
    });
  } else {
    console.warn(`\n⚠ ${CHROMIUM} is missing: skipping the ${label} tests (set CI=true to fail instead).\n`);
  }
  return describe.skip;
}
