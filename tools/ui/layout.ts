// The page shell: navigation, the search box (a plain GET form: no script), and the page's content.
import { html, Html } from './html';

export type SearchType = 'device' | 'product' | 'cve';

export interface Page {
  status?: number;
  title: string;
  body: Html;
  /** what the search box shows */
  search?: { type: SearchType; q: string };
}

export function layout(page: Page): string {
  const type = page.search?.type ?? 'device';
  const option = (value: SearchType, label: string) => html`<option value="${value}" ${value === type ? html` selected` : ''}>${label}</option>`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${page.title} · Defender inventory history</title>
        <link rel="stylesheet" href="/style.css" />
        <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
      </head>
      <body>
        <header>
          <a href="/">Defender inventory history</a>
          <nav><a href="/">Snapshots</a></nav>
          <form action="/search" method="get" role="search">
            <select name="type" aria-label="search for">
              ${option('device', 'Device')}${option('product', 'Product')}${option('cve', 'CVE')}
            </select>
            <input
              type="search"
              name="q"
              value="${page.search?.q ?? ''}"
              placeholder="DeviceId or name, SoftwareName, CVE-…"
              aria-label="search text"
              required
            />
            <button type="submit">Go</button>
          </form>
        </header>
        <main>
          <h1>${page.title}</h1>
          ${page.body}
        </main>
      </body>
    </html> `.text;
}
