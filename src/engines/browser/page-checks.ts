// Page expectations and captures. Each check is one look at the page that returns
// the sentence of what differed (or undefined); the engine retries until a deadline,
// the way Playwright's own expect() does.
import type { Page } from 'playwright-core';
import type { PageCaptureSpec, PageExpectSpec, TemplateScope } from '../../contract/plan.js';
import { describeMatcher, matchValue, show } from '../matchers.js';
import { locate } from './selectors.js';

/** Short timeout for one look: a check never waits for elements itself, the retry loop does. */
const LOOK_MS = 1000;

async function textOf(page: Page, selector: string | undefined): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator.innerText, not the DOM property; a page expectation matches the rendered text a user sees (no <script>/<style> source, no hidden elements), like allInnerTexts below
  if (selector === undefined) return page.locator('body').innerText({ timeout: LOOK_MS });
  const texts = await locate(page, selector).allInnerTexts();
  return texts.join('\n');
}

export function describeCheck(check: PageExpectSpec, scope: TemplateScope): string {
  switch (check.check) {
    case 'text': {
      const where = check.in ? ` in "${check.in.renderString(scope)}"` : ' on the page';
      return `text ${show(check.text.renderString(scope))}${where}`;
    }
    case 'visible':
      return `"${check.selector.renderString(scope)}" visible`;
    case 'hidden':
      return `"${check.selector.renderString(scope)}" hidden`;
    case 'count':
      return `${check.equals} × "${check.selector.renderString(scope)}"`;
    case 'url':
      return `URL ${describeMatcher(check.matcher)}`;
    case 'title':
      return `title ${describeMatcher(check.matcher)}`;
  }
}

/** One look at the page: undefined when the check holds, else what differed. */
export async function runCheck(page: Page, check: PageExpectSpec, scope: TemplateScope): Promise<string | undefined> {
  switch (check.check) {
    case 'text': {
      const wanted = check.text.renderString(scope);
      const where = check.in?.renderString(scope);
      const text = await textOf(page, where);
      if (text.includes(wanted)) return undefined;
      const place = where ? `"${where}"` : 'the page';
      return text.length === 0 && where
        ? `expected ${place} to contain ${show(wanted)}, but no such element (or it is empty)`
        : `expected ${place} to contain ${show(wanted)}, got ${show(text, 160)}`;
    }
    case 'visible': {
      const selector = check.selector.renderString(scope);
      const visible = await locate(page, selector).first().isVisible();
      return visible ? undefined : `expected "${selector}" to be visible, it is not (missing or hidden)`;
    }
    case 'hidden': {
      const selector = check.selector.renderString(scope);
      const hidden = await locate(page, selector).first().isHidden();
      return hidden ? undefined : `expected "${selector}" to be hidden, it is visible`;
    }
    case 'count': {
      const selector = check.selector.renderString(scope);
      const n = await locate(page, selector).count();
      return n === check.equals ? undefined : `expected ${check.equals} elements matching "${selector}", found ${n}`;
    }
    case 'url': {
      const problem = matchValue(check.matcher, page.url());
      return problem && `page URL: ${problem}`;
    }
    case 'title': {
      const problem = matchValue(check.matcher, await page.title());
      return problem && `page title: ${problem}`;
    }
  }
}

/** Reads one capture; waits for the element up to timeoutMs. Missing attribute → undefined. */
export async function capture(page: Page, c: PageCaptureSpec, scope: TemplateScope, timeoutMs: number): Promise<unknown> {
  switch (c.from) {
    case 'text':
      // biome-ignore lint/performance/useDomNodeTextContent: Playwright's Locator.innerText, not the DOM property; a text capture takes the rendered text, as the page shows it, the same text the page expectations match
      return locate(page, c.selector.renderString(scope)).first().innerText({ timeout: timeoutMs });
    case 'attribute':
      return (await locate(page, c.selector.renderString(scope)).first().getAttribute(c.attribute, { timeout: timeoutMs })) ?? undefined;
    case 'url':
      return page.url();
    case 'title':
      return page.title();
  }
}
