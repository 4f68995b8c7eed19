// `/diff?from=…&to=…[&device=…]`: the query CLI's merge-join diff between two inventory snapshots.
import { lookupDevice } from '../../query/commands/deviceLookup';
import { DiffChange, DiffRow, diffStreams } from '../../query/diff';
import { UsageError } from '../../query/errors';
import { readEntities } from '../../query/tableRead';
import { CatalogRow, resolveSnapshot, loadCatalog } from '../../query/snapshots';
import { count, html, Html } from '../html';
import type { Page } from '../layout';
import { completeOf, deviceLink, optional, productLink, snapshotLabel, tableFor, UiContext, warnings } from './common';

/** Changes listed on the page; the totals always count every change. */
export const MAX_LISTED = 2000;
const SELECT = ['PartitionKey', 'DeviceId', 'DeviceName', 'SoftwareVendor', 'SoftwareName', 'SoftwareVersion'];

async function* fromArray<T>(rows: readonly T[]): AsyncGenerator<T> {
  yield* rows;
}

function picker(complete: readonly CatalogRow[], from?: string, to?: string, device?: string): Html {
  const select = (name: string, chosen?: string) =>
    html`<select name="${name}" aria-label="${name}">
      ${complete.map((s) => html`<option value="${s.rowKey}" ${s.rowKey === chosen ? html` selected` : ''}>${s.rowKey} (${snapshotLabel(s)})</option>`)}
    </select>`;
  return html`<form class="inline" action="/diff" method="get">
    from ${select('from', from ?? complete[1]?.rowKey)} to ${select('to', to ?? complete[0]?.rowKey)}
    <input type="text" name="device" value="${device ?? ''}" placeholder="device (optional)" aria-label="device" /><button type="submit">Compare</button>
  </form>`;
}

export async function diffPage(ctx: UiContext, params: URLSearchParams): Promise<Page> {
  const catalog = await loadCatalog(ctx.catalog, 'SoftwareInventory');
  const complete = completeOf(catalog);
  const fromText = optional(params, 'from');
  const toText = optional(params, 'to');
  const device = optional(params, 'device');
  if (fromText === undefined || toText === undefined) {
    if (fromText !== undefined || toText !== undefined) throw new UsageError('a diff needs both ?from= and ?to= (snapshot ids, dates yyyy-MM-dd or latest)');
    return { title: 'Compare two snapshots', body: picker(complete) };
  }
  for (const p of [fromText, toText])
    if (p.includes(',') || p.includes('..')) throw new UsageError(`a diff compares two single snapshots; "${p}" is a list or range`);
  const from = resolveSnapshot(fromText, catalog);
  const to = resolveSnapshot(toText, catalog);
  const [a, b] = [from.snapshots[0], to.snapshots[0]];

  let fromRows: AsyncIterable<DiffRow>;
  let toRows: AsyncIterable<DiffRow>;
  if (device !== undefined) {
    const found = await lookupDevice(ctx, [a, b], device, SELECT);
    fromRows = fromArray(found.rows[0] as unknown as DiffRow[]);
    toRows = fromArray(found.rows[1] as unknown as DiffRow[]);
  } else {
    fromRows = readEntities<DiffRow>(tableFor(ctx, 'SoftwareInventory', a), a.rowKey, { select: SELECT, scan: true });
    toRows = readEntities<DiffRow>(tableFor(ctx, 'SoftwareInventory', b), b.rowKey, { select: SELECT, scan: true });
  }
  const listed: { c: DiffChange; name?: string }[] = [];
  const totals = await diffStreams(fromRows, toRows, (c, context) => {
    if (listed.length < MAX_LISTED) listed.push({ c, name: context.deviceName });
  });
  const changed = totals.installed + totals.removed + totals.changed;
  const rows = listed.map(
    ({ c, name }) =>
      html`<tr class="change-${c.change}" data-change="${c.change}">
        <td>${c.change}</td>
        <td>${deviceLink(c.DeviceId, name ?? c.DeviceId, c.change === 'removed' ? a.rowKey : b.rowKey)}</td>
        <td>${c.SoftwareVendor}</td>
        <td>${productLink(c.SoftwareName, c.SoftwareVendor)}</td>
        <td>${c.fromVersions.join(', ') || '-'}</td>
        <td>${c.toVersions.join(', ') || '-'}</td>
      </tr>`,
  );
  const body = html`${warnings([...from.warnings, ...to.warnings])}${picker(complete, a.rowKey, b.rowKey, device)}
    <p>
      From ${a.rowKey} (${snapshotLabel(a)} UTC, ${a.Status}) to ${b.rowKey} (${snapshotLabel(b)} UTC, ${b.Status})${device ? html`, device "${device}"` : ''}.
    </p>
    <table class="totals">
      <thead>
        <tr>
          <th class="num">installed</th>
          <th class="num">removed</th>
          <th class="num">changed</th>
          <th class="num">unchanged</th>
        </tr>
      </thead>
      <tbody>
        <tr>
          <td class="num" data-field="installed">${count(totals.installed)}</td>
          <td class="num" data-field="removed">${count(totals.removed)}</td>
          <td class="num" data-field="changed">${count(totals.changed)}</td>
          <td class="num" data-field="unchanged">${count(totals.unchanged)}</td>
        </tr>
      </tbody>
    </table>
    <p class="note">
      Counted per (device, vendor, name)
      group.${changed > listed.length ? ` The first ${count(listed.length)} of ${count(changed)} changes are listed; npm run query -- diff lists all.` : ''}
    </p>
    ${
      rows.length
        ? html`<table class="changes">
            <thead>
              <tr>
                <th>change</th>
                <th>device</th>
                <th>vendor</th>
                <th>name</th>
                <th>from</th>
                <th>to</th>
              </tr>
            </thead>
            <tbody>
              ${rows}
            </tbody>
          </table>`
        : html`<p>No differences.</p>`
    }`;
  return { title: `Changes ${a.rowKey} → ${b.rowKey}`, body };
}
