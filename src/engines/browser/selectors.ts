// Plan selectors may cross iframes: `iframe[name=ace_outer] >> iframe >> #innerdocbody`.
// Playwright locators do not enter frames on their own, so every `>>` segment that
// names an (i)frame before the last one becomes a frameLocator.
import type { FrameLocator, Locator, Page } from 'playwright-core';

/** Splits on `>>` outside quotes and brackets. */
export function splitSelectorChain(selector: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quote: string | undefined;
  let depth = 0;
  for (let i = 0; i < selector.length; i++) {
    const ch = selector[i]!;
    if (quote) {
      if (ch === '\\') {
        current += ch + (selector[i + 1] ?? '');
        i++;
        continue;
      }
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '[' || ch === '(') depth++;
    else if (ch === ']' || ch === ')') depth = Math.max(0, depth - 1);
    else if (ch === '>' && selector[i + 1] === '>' && depth === 0) {
      parts.push(current.trim());
      current = '';
      i++;
      continue;
    }
    current += ch;
  }
  parts.push(current.trim());
  return parts.filter((p) => p.length > 0);
}

function namesAFrame(segment: string): boolean {
  return /^(css=)?i?frame(?![\w-])/i.test(segment);
}

/** A locator for a plan selector, entering every iframe named along the way. */
export function locate(page: Page, selector: string): Locator {
  const parts = splitSelectorChain(selector);
  let scope: Page | FrameLocator = page;
  let pending: string[] = [];
  parts.forEach((part, i) => {
    if (i < parts.length - 1 && namesAFrame(part)) {
      scope = scope.frameLocator([...pending, part].join(' >> '));
      pending = [];
    } else {
      pending.push(part);
    }
  });
  if (pending.length === 0) throw new Error(`The selector "${selector}" ends in a frame; name an element inside it.`);
  return scope.locator(pending.join(' >> '));
}
