// The peer of robot_browser_bench in bench/robot/run: the same journey as bench/robot/journey.json,
// written the way a Playwright user would, run back to back by one Node.js process.
//
//   NODE_PATH=<dir>/node_modules node playwright_journey.js BASE_URL SECONDS [CHROMIUM]
//
// npm `playwright-core` (the run script installs it into a temporary directory) launches Debian's
// Chromium (CHROMIUM, default /usr/bin/chromium) headless once; every run gets a fresh browser
// context (no cookies, cache or storage from earlier runs), as the robot gives each run. The
// journey: open / (page 1), click #go and wait for /form to load (page 2), fill #user and
// #password, click #submit and wait for /welcome to load (page 3: POST /login answers 303),
// wait for the text "Welcome", check the URL. One warm-up run first (not counted; it must
// succeed), then runs one after another until SECONDS have passed. Prints one JSON line with
// the fields robot_browser_bench prints: runs, failed, first_error, seconds, runs_per_min,
// p50_ms, max_ms, pid. Exits 1 when Chromium cannot start or the warm-up run fails.
'use strict';
const { chromium } = require('playwright-core');

const [base, secondsArg, executablePath = '/usr/bin/chromium'] = process.argv.slice(2);
const seconds = Number(secondsArg);
if (!base || !(seconds > 0)) {
  console.error('usage: node playwright_journey.js BASE_URL SECONDS [CHROMIUM]');
  process.exit(1);
}

async function journey(browser) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(30000);
    await page.goto(`${base}/`);
    await Promise.all([page.waitForURL('**/form'), page.click('#go')]);
    await page.fill('#user', 'alice');
    await page.fill('#password', 's3cret');
    await Promise.all([page.waitForURL('**/welcome**'), page.click('#submit')]);
    await page.getByText('Welcome').waitFor();
    if (!page.url().includes('/welcome')) throw new Error(`unexpected URL ${page.url()}`);
  } finally {
    await context.close();
  }
}

async function main() {
  const browser = await chromium.launch({ executablePath, headless: true });
  try {
    await journey(browser);
  } catch (e) {
    console.error(`playwright_journey: the warm-up run failed: ${e.message}`);
    await browser.close();
    process.exit(1);
  }
  const durations = [];
  let failed = 0;
  let firstError = '';
  const start = performance.now();
  const until = start + seconds * 1000;
  while (performance.now() < until) {
    const t0 = performance.now();
    try {
      await journey(browser);
      durations.push(performance.now() - t0);
    } catch (e) {
      failed += 1;
      if (!firstError) firstError = e.message.split('\n')[0];
    }
  }
  const wall = (performance.now() - start) / 1000;
  durations.sort((a, b) => a - b);
  console.log(JSON.stringify({
    side: 'playwright',
    version: require('playwright-core/package.json').version,
    runs: durations.length,
    failed,
    first_error: firstError,
    seconds: wall,
    runs_per_min: (durations.length * 60) / wall,
    p50_ms: durations.length ? durations[Math.floor(durations.length / 2)] : 0,
    max_ms: durations.length ? durations[durations.length - 1] : 0,
    pid: process.pid,
  }));
  await browser.close();
}

main().catch((e) => {
  console.error(`playwright_journey: ${e.message}`);
  process.exit(1);
});
