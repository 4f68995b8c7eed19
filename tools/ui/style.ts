// The one stylesheet, served as /style.css: the CSP allows styles from this origin only (no inline style).
export const STYLE = `
:root { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1b1b; background: #fff; }
body { margin: 0; }
header { display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; padding: .6rem 1.2rem; background: #0b3d63; color: #fff; }
header a { color: #fff; text-decoration: none; font-weight: 600; }
header nav { display: flex; gap: 1rem; }
header form { margin-left: auto; display: flex; gap: .4rem; }
header input[type=search] { width: 18rem; }
main { padding: 1rem 1.2rem 3rem; max-width: 78rem; }
h1 { font-size: 1.4rem; margin: .4rem 0 .8rem; }
h2 { font-size: 1.15rem; margin: 1.6rem 0 .5rem; }
h3 { font-size: 1rem; margin: 1rem 0 .3rem; }
table { border-collapse: collapse; margin: .4rem 0 1rem; font-size: .9rem; }
th, td { text-align: left; padding: .25rem .6rem; border-bottom: 1px solid #e3e3e3; vertical-align: top; }
th { background: #f3f5f7; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.status-complete { color: #0a6b2d; font-weight: 600; }
.status-failed { color: #b00020; font-weight: 600; }
.status-ingesting { color: #9a6400; font-weight: 600; }
.note { color: #555; }
.error { border-left: 4px solid #b00020; padding: .5rem .8rem; background: #fdf0f2; white-space: pre-wrap; }
.change-installed { color: #0a6b2d; }
.change-removed { color: #b00020; }
.change-changed { color: #9a6400; }
.snapshots a.current { font-weight: 700; text-decoration: none; color: #1b1b1b; }
.chart svg { max-width: 100%; height: auto; font-size: 11px; }
.chart .grid { stroke: #e6e6e6; }
.chart .axis { stroke: #444; }
.chart .tick, .chart .axis-label { fill: #444; }
.legend { list-style: none; display: flex; flex-wrap: wrap; gap: .3rem 1rem; padding: 0; margin: .3rem 0 0 56px; font-size: .85rem; }
.legend svg { vertical-align: -1px; margin-right: .3rem; }
ul.devices { columns: 3 16rem; margin: .2rem 0 .8rem; padding-left: 1.2rem; font-size: .9rem; }
form.inline { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .4rem 0 1rem; }
`;

/** A small icon, so the browser's automatic favicon request finds something (no 404 in the console). */
export const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0b3d63"/><rect x="3" y="8" width="2" height="5" fill="#fff"/><rect x="7" y="5" width="2" height="8" fill="#fff"/><rect x="11" y="3" width="2" height="10" fill="#fff"/></svg>`;
