// A report.html opened in Chromium the way the HTML tests read it: console
// errors and warnings, page errors and every request other than the file
// itself are recorded (an offline report makes none), and the page is handed
// over once its script says it is ready.
import type { Browser, Page } from 'playwright-core';

export interface ReportPage {
  page: Page;
  problems: string[];
  requests: string[];
}

/** `ready` runs in the page: true once its script has drawn what the test reads. */
export async function openReportPage(browser: Browser, file: string, ready: () => boolean): Promise<ReportPage> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith('file://') && !r.url().startsWith('data:')) requests.push(r.url());
  });
  await page.goto(`file://${file}`);
  await page.waitForFunction(ready);
  return { page, problems, requests };
}
