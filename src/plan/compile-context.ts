// Shared state of one compile pass: the issue collector plus template helpers
// that report syntax errors at the expression's column and remember every
// vars./captures. reference for the checks that run once everything is known.
import { formatPath, type IssueCollector } from './issue-collector.js';
import type { Template, ValueTemplate } from '../contract/plan.js';
import type { YamlPath } from './source.js';
import { compileExpressionTemplate, compileTemplate, compileValue, TemplateSyntaxError, type TemplateRef } from './template.js';

export interface PositionedRef {
  ref: TemplateRef;
  path: YamlPath;
  /** Where the template starts inside the YAML string (e.g. after `GET `). */
  base: number;
}

const BROKEN: Template = { source: '', isStatic: true, render: () => '', renderString: () => '' };

export class CompileContext {
  readonly refs: PositionedRef[] = [];

  constructor(readonly issues: IssueCollector) {}

  template(path: YamlPath, source: string, base = 0): Template {
    return this.track(path, () => compileTemplate(source), base);
  }

  /** `if:` conditions may be written with or without braces. */
  condition(path: YamlPath, source: string): Template {
    return this.track(path, () => (source.includes('{{') ? compileTemplate(source) : compileExpressionTemplate(source)));
  }

  value(path: YamlPath, value: unknown): ValueTemplate {
    let ok = true;
    const walk = (v: unknown, p: YamlPath): void => {
      if (typeof v === 'string') {
        if (this.track(p, () => compileTemplate(v)) === BROKEN) ok = false;
      } else if (Array.isArray(v)) for (const [i, item] of v.entries()) walk(item, [...p, i]);
      else if (v !== null && typeof v === 'object') for (const [k, item] of Object.entries(v)) walk(item, [...p, k]);
    };
    walk(value, path);
    return ok ? compileValue(value) : { render: () => value };
  }

  private track(path: YamlPath, build: () => Template & { refs: TemplateRef[] }, base = 0): Template {
    try {
      const t = build();
      for (const ref of t.refs) this.refs.push({ ref, path, base });
      return t;
    } catch (err) {
      if (!(err instanceof TemplateSyntaxError)) throw err;
      this.issues.error(path, `${formatPath(path)}: bad template: ${err.message}`, { offset: base + err.column - 1, ...(err.hint ? { hint: err.hint } : {}) });
      return BROKEN;
    }
  }
}
