// `/`: the catalog (table InventorySnapshots) per export kind, with each snapshot's health.
import { EXPORT_KIND_NAMES } from '../../../shared/kinds/exportKinds';
import { CatalogRow, isComplete, loadCatalog } from '../../query/snapshots';
import { count, href, html, Html } from '../html';
import type { Page } from '../layout';
import { snapshotLabel, statusCell, UiContext } from './common';
import { shortTime } from '../../query/output';
import { hasCurrentRollup } from '../../../shared/rollup/rollupKeys';

function snapshotTable(rows: readonly CatalogRow[], withDiff: boolean): Html {
  const complete = rows.filter(isComplete); // newest first
  const previousOf = (r: CatalogRow) => complete.find((c) => c.rowKey < r.rowKey);
  return html`<table class="snapshots">
    <thead>
      <tr>
        <th>snapshot</th>
        <th>status</th>
        <th>generated (UTC)</th>
        <th class="num">files</th>
        <th class="num">rows</th>
        <th class="num">rejected</th>
        <th class="num">duplicates</th>
        <th>completed (UTC)</th>
        <th>table</th>
        ${withDiff ? html`<th>changes</th>` : ''}
      </tr>
    </thead>
    <tbody>
      ${rows.map((r) => {
        const prev = withDiff && isComplete(r) ? previousOf(r) : undefined;
        return html`<tr data-snapshot="${r.rowKey}">
          <td>${r.rowKey}</td>
          <td>${statusCell(r)}${r.Error ? html`<div class="note">${r.Error}</div>` : ''}</td>
          <td>${snapshotLabel(r)}</td>
          <td class="num">${count(r.FilesCompleted)}/${count(r.FileCount)}</td>
          <td class="num" data-field="RowCount">${count(r.RowCount)}</td>
          <td class="num" data-field="RejectedCount">${count(r.RejectedCount)}</td>
          <td class="num" data-field="DuplicateCount">${count(r.DuplicateCount)}</td>
          <td>${shortTime(r.CompletedAt)}</td>
          <td>${r.TableName}</td>
          ${withDiff ? html`<td>${prev ? html`<a href="${href('/diff', { from: prev.rowKey, to: r.rowKey })}">since ${prev.rowKey}</a>` : ''}</td>` : ''}
        </tr>`;
      })}
    </tbody>
  </table>`;
}

export async function snapshotsPage(ctx: UiContext): Promise<Page> {
  const sections: Html[] = [];
  const empty: string[] = [];
  for (const kind of EXPORT_KIND_NAMES) {
    const rows = await loadCatalog(ctx.catalog, kind);
    if (rows.length === 0) {
      empty.push(kind);
      continue;
    }
    const complete = rows.filter(isComplete);
    // trends read rollups (docs/rollups.md): a snapshot without a current one is scanned, so say which
    const unrolled = complete.filter((r) => !hasCurrentRollup(r)).length;
    sections.push(
      html`<section data-kind="${kind}">
        <h2>${kind}</h2>
        <p class="note">
          ${count(rows.length)} snapshot${rows.length === 1 ? '' : 's'}, ${count(complete.length)}
          complete${
            unrolled ? html`, <span data-field="unrolled">${count(unrolled)}</span> of them without a current rollup yet (trends scan their tables)` : ''
          }.
        </p>
        ${snapshotTable(rows, kind === 'SoftwareInventory')}
      </section>`,
    );
  }
  const body = html`${sections.length ? sections : html`<p>The catalog (table InventorySnapshots) holds no snapshot yet: run <code>npm run ingest</code> or <code>npm start</code>.</p>`}
  ${empty.length ? html`<p class="note">No snapshots of ${empty.join(', ')} (EXPORT_KINDS lists the kinds the timer collects).</p>` : ''}`;
  return { title: 'Snapshots', body };
}
