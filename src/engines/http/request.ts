// Turns a compiled RequestSpec into what undici sends: the absolute URL,
// merged headers and an encoded body. Parts without templates are computed
// once per step spec and reused, so a static `request: GET /` costs no
// rendering at all in a load loop.
import type { CompiledPlan, RequestSpec, Template, TemplateScope } from '../../contract/plan.js';
import { StepFailure } from '../../contract/engine.js';

export interface OutgoingRequest {
  method: string;
  url: URL;
  /** `url.href`, `url.origin` and path + query, read once: URL getters are not free in a hot loop. */
  href: string;
  origin: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

interface Target {
  url: URL;
  href: string;
  origin: string;
  path: string;
}

interface Prepared {
  /** Set when the URL and the query have no templates. */
  url?: Target;
  /** Set when no header (plan, step, body content type) has a template. */
  headers?: Record<string, string>;
  contentType?: string;
}

const prepared = new WeakMap<RequestSpec, Prepared>();

const allStatic = (templates: Record<string, Template>) => Object.values(templates).every((t) => t.isStatic);

function contentTypeOf(spec: RequestSpec): string | undefined {
  switch (spec.body.type) {
    case 'json':
      return 'application/json';
    case 'form':
      return 'application/x-www-form-urlencoded';
    case 'raw':
      return 'text/plain; charset=utf-8';
    default:
      return undefined;
  }
}

export class RequestBuilder {
  constructor(private readonly plan: CompiledPlan) {}

  build(spec: RequestSpec, scope: () => TemplateScope): OutgoingRequest {
    let p = prepared.get(spec);
    if (!p) {
      p = this.prepare(spec);
      prepared.set(spec, p);
    }
    const target = p.url ?? this.renderUrl(spec, scope());
    const out: OutgoingRequest = {
      method: spec.method,
      url: target.url,
      href: target.href,
      origin: target.origin,
      path: target.path,
      headers: p.headers ?? this.renderHeaders(spec, scope(), p.contentType),
    };
    const body = renderBody(spec, scope);
    if (body !== undefined) out.body = body;
    return out;
  }

  private prepare(spec: RequestSpec): Prepared {
    const p: Prepared = {};
    const contentType = contentTypeOf(spec);
    if (contentType) p.contentType = contentType;
    // A static part renders the same for any scope; an empty object stands in.
    const none = {} as TemplateScope;
    if (spec.url.isStatic && allStatic(spec.query)) p.url = this.renderUrl(spec, none);
    if (allStatic(this.plan.http.headers) && allStatic(spec.headers)) p.headers = this.renderHeaders(spec, none, contentType);
    return p;
  }

  private renderUrl(spec: RequestSpec, scope: TemplateScope): Target {
    const text = spec.url.renderString(scope);
    let url: URL;
    try {
      url = new URL(text, this.plan.target);
    } catch {
      throw new StepFailure(
        this.plan.target
          ? `the URL ${JSON.stringify(text)} is not a valid URL, even relative to the target ${this.plan.target.href}`
          : `the URL ${JSON.stringify(text)} is relative but the plan has no \`target:\`; set one or write an absolute http:// URL`,
        'http',
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new StepFailure(`the URL ${url.href} is not http:// or https://; request steps speak HTTP only`, 'http');
    }
    for (const [name, value] of Object.entries(spec.query)) url.searchParams.append(name, value.renderString(scope));
    return { url, href: url.href, origin: url.origin, path: url.pathname + url.search };
  }

  /** Plan-wide headers first, then the step's (names are case-insensitive, the step wins). */
  private renderHeaders(spec: RequestSpec, scope: TemplateScope, contentType: string | undefined): Record<string, string> {
    const headers: Record<string, string> = {};
    if (contentType) headers['content-type'] = contentType;
    for (const [name, t] of Object.entries(this.plan.http.headers)) headers[name.toLowerCase()] = t.renderString(scope);
    for (const [name, t] of Object.entries(spec.headers)) headers[name.toLowerCase()] = t.renderString(scope);
    return headers;
  }
}

function renderBody(spec: RequestSpec, scope: () => TemplateScope): string | undefined {
  const body = spec.body;
  switch (body.type) {
    case 'json':
      return JSON.stringify(body.value.render(scope())) ?? 'null';
    case 'form': {
      const s = scope();
      const form = new URLSearchParams();
      for (const [name, t] of Object.entries(body.fields)) form.append(name, t.renderString(s));
      return form.toString();
    }
    case 'raw':
      return body.text.renderString(scope());
    default:
      return undefined;
  }
}
