// The web UI's HTTP server (docs/ui.md): node:http, GET/HEAD only, HTML rendered here with a strict
// Content-Security-Policy (no script at all), and a Host check so a DNS-rebinding page cannot read it.
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { ConfigError } from '../../shared/core/config';
import { describeError } from '../../shared/core/redact';
import { NotFoundError, UsageError } from '../query/errors';
import { html } from './html';
import { layout, Page } from './layout';
import { cvePage } from './pages/cve';
import { devicePage } from './pages/device';
import { diffPage } from './pages/diff';
import { productPage } from './pages/product';
import { searchTarget } from './pages/search';
import { snapshotsPage } from './pages/snapshots';
import type { UiContext } from './pages/common';
import { FAVICON, STYLE } from './style';

/** Nothing but this origin's stylesheet and images; no script, no frames, forms post back here only. */
export const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const PAGES: Record<string, (ctx: UiContext, params: URLSearchParams) => Promise<Page>> = {
  '/': (ctx) => snapshotsPage(ctx),
  '/device': devicePage,
  '/product': productPage,
  '/diff': diffPage,
  '/cve': cvePage,
};

export interface UiServerOptions {
  ctx: UiContext;
  /** Host header names accepted (lower case, without port); undefined accepts any (bound beyond loopback) */
  allowedHosts?: readonly string[];
  /** where failures are logged (messages are redacted) */
  logError?: (text: string) => void;
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

export function loopbackHosts(): readonly string[] {
  return LOOPBACK_NAMES;
}

function send(res: ServerResponse, status: number, type: string, body: string, head: boolean, extra: Record<string, string> = {}): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
    ...extra,
  });
  res.end(head ? undefined : body);
}

function errorPage(status: number, message: string): Page {
  const title = status === 400 ? 'Bad request' : status === 404 ? 'Not found' : 'Error';
  return {
    status,
    title,
    body: html`<p class="error" data-status="${status}">${message}</p>
      <p><a href="/">Back to the snapshots</a></p>`,
  };
}

function hostName(header: string | undefined): string {
  const h = (header ?? '').toLowerCase();
  return h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.split(':')[0];
}

export async function handle(opts: UiServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const head = req.method === 'HEAD';
  if (req.method !== 'GET' && !head) {
    send(res, 405, 'text/plain; charset=utf-8', 'read-only: GET only\n', false, { Allow: 'GET, HEAD' });
    return;
  }
  if (opts.allowedHosts && !opts.allowedHosts.includes(hostName(req.headers.host))) {
    send(res, 421, 'text/plain; charset=utf-8', 'unexpected Host header: open the UI by the address it printed\n', head);
    return;
  }
  const url = new URL(req.url ?? '/', 'http://ui.invalid');
  if (url.pathname === '/style.css') return send(res, 200, 'text/css; charset=utf-8', STYLE, head);
  if (url.pathname === '/favicon.svg') return send(res, 200, 'image/svg+xml', FAVICON, head);
  if (url.pathname === '/favicon.ico') return send(res, 204, 'image/x-icon', '', head);
  let page: Page;
  try {
    if (url.pathname === '/search') {
      send(res, 302, 'text/plain; charset=utf-8', '', head, { Location: searchTarget(url.searchParams) });
      return;
    }
    const render = PAGES[url.pathname];
    page = render ? await render(opts.ctx, url.searchParams) : errorPage(404, `no page ${url.pathname}`);
  } catch (err) {
    if (err instanceof UsageError) page = errorPage(400, err.message);
    else if (err instanceof NotFoundError) page = errorPage(404, err.message);
    else {
      // describeError redacts account keys, SAS signatures and tokens before anything is shown or logged
      const text = describeError(err, 1000);
      opts.logError?.(`${url.pathname}: ${text}`);
      page = errorPage(500, err instanceof ConfigError ? err.message : `reading the tables failed: ${text}`);
    }
  }
  send(res, page.status ?? 200, 'text/html; charset=utf-8', layout(page), head);
}

export function createUiServer(opts: UiServerOptions): Server {
  return createServer((req, res) => {
    handle(opts, req, res).catch((err: unknown) => {
      opts.logError?.(describeError(err, 1000));
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n', false);
      else res.destroy();
    });
  });
}
