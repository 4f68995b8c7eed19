// Server-rendered SVG charts (docs/ui.md#charts): no script, no bundle, no CDN, so the strict CSP holds and the
// page works offline. Each bar carries data-series / data-point / data-value, which the browser tests read
// and a person can hover (an SVG <title> is the tooltip).
import { count, html, Html } from './html';

export interface ChartPoint {
  /** stable id of the x position (a snapshot id) */
  id: string;
  label: string;
}

export interface Series {
  name: string;
  /** one value per point, in the points' order */
  values: number[];
}

/** Colour-blind-safe palette (Okabe–Ito), then greys for "other". */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000', '#7F3C8D', '#11A579', '#3969AC', '#F2B701'];
export const OTHER_COLOUR = '#B0B0B0';

export function colourOf(index: number, name: string): string {
  return name === OTHER ? OTHER_COLOUR : PALETTE[index % PALETTE.length];
}

export const OTHER = 'other';

/** A round axis step giving about `ticks` intervals up to `max`. */
function niceStep(max: number, ticks = 4): number {
  const raw = Math.max(1, max / ticks);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  return Math.max(1, Math.ceil(step));
}

/** Stacked bars, one bar per point, one colour per series (series order = stacking order, bottom up). */
export function stackedBars(title: string, points: readonly ChartPoint[], series: readonly Series[], yLabel: string): Html {
  const W = 760;
  const H = 300;
  const left = 56;
  const right = 12;
  const top = 16;
  const bottom = 36;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const totals = points.map((_, i) => series.reduce((n, s) => n + (s.values[i] ?? 0), 0));
  const step = niceStep(Math.max(1, ...totals));
  const yMax = Math.max(step, Math.ceil(Math.max(1, ...totals) / step) * step);
  const y = (v: number) => top + plotH - (v / yMax) * plotH;
  const band = plotW / Math.max(1, points.length);
  const barW = Math.max(4, Math.min(64, band * 0.6));
  const ticks: number[] = [];
  for (let v = 0; v <= yMax; v += step) ticks.push(v);

  const grid = ticks.map(
    (v) =>
      html`<line class="grid" x1="${left}" x2="${W - right}" y1="${y(v)}" y2="${y(v)}"></line>
        <text class="tick" x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${count(v)}</text>`,
  );
  const xLabels = points.map(
    (p, i) => html`<text class="tick" x="${left + band * i + band / 2}" y="${H - bottom + 16}" text-anchor="middle">${p.label}</text>`,
  );
  const stacks = points.map(() => 0);
  const groups = series.map((s, si) => {
    const rects = points.map((p, i) => {
      const v = s.values[i] ?? 0;
      const y0 = stacks[i];
      stacks[i] += v;
      const x = left + band * i + (band - barW) / 2;
      return html`<rect
        class="bar"
        data-series="${s.name}"
        data-point="${p.id}"
        data-value="${v}"
        x="${x}"
        y="${y(y0 + v)}"
        width="${barW}"
        height="${y(y0) - y(y0 + v)}"
        fill="${colourOf(si, s.name)}"
        ><title>${s.name} at ${p.label}: ${count(v)}</title></rect
      >`;
    });
    return html`<g class="series" data-series="${s.name}">${rects}</g>`;
  });
  return html`<figure class="chart">
    <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${title}" data-chart="${title}">
      ${grid}
      <line class="axis" x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}"></line>
      <line class="axis" x1="${left}" x2="${W - right}" y1="${top + plotH}" y2="${top + plotH}"></line>
      ${groups} ${xLabels}
      <text class="axis-label" x="14" y="${top + plotH / 2}" transform="rotate(-90 14 ${top + plotH / 2})" text-anchor="middle">${yLabel}</text>
    </svg>
    <figcaption>
      <ul class="legend">
        ${series.map(
          (s, si) =>
            html`<li data-series="${s.name}">
              <svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="${colourOf(si, s.name)}"></rect></svg>${s.name}
            </li>`,
        )}
      </ul>
    </figcaption>
  </figure>`;
}
