// A table of rows under columns given as data (docs/ui.md): the head, whether the column is a number
// (right-aligned), an optional data-field the browser tests read, and the cell. Cells go through `html`.
import { esc, html, Html, Part } from '../html';

export interface Column<R> {
  head: string;
  /** right-aligned (class="num") */
  num?: boolean;
  /** data-field="…" on each cell, for the page's tests */
  field?: string;
  cell: (row: R) => Part;
}

// Tags with optional attributes are built as strings (attribute values escaped): prettier formats html``
// templates as HTML and would close a lone open tag.
function th<R>(c: Column<R>): Html {
  return c.num ? html`<th class="num">${c.head}</th>` : html`<th>${c.head}</th>`;
}

function td<R>(c: Column<R>, row: R): Html {
  const attrs = (c.num ? ' class="num"' : '') + (c.field ? ` data-field="${esc(c.field)}"` : '');
  return new Html(`<td${attrs}>${html`${c.cell(row)}`.text}</td>`);
}

/** `rows` in the order given; `className` names the table for the page's tests and style. */
export function dataTable<R>(rows: readonly R[], columns: readonly Column<R>[], className?: string): Html {
  const open = new Html(className ? `<table class="${esc(className)}">` : '<table>');
  return html`${open}
    <thead>
      <tr>
        ${columns.map(th)}
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (r) =>
          html`<tr>
            ${columns.map((c) => td(c, r))}
          </tr>`,
      )}
    </tbody>
  </table>`;
}
