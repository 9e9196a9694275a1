/**
 * The web UI of `serve`: one page, no build step, no third-party code, built only on the HTTP
 * API (the same endpoints scripts use). Views by URL hash: the image list with a scan form and
 * live progress (#/), an image's history and latest report (#/image?repo=…), a comparison of two
 * scans (#/compare?id=…&id=…). Reports are the HTML report, framed from the API at their own
 * height (part of the page, not a scroll inside it). Search and sort in the image list, rescan,
 * delete and downloads on an image's page; the job list can be cleared; it holds at 420 px.
 */
const STYLE = `
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1f24; margin: 0; }
header { background: #1b1f24; color: #fff; padding: 10px 24px; display: flex; gap: 24px; align-items: center; }
header a { color: #fff; text-decoration: none; } header strong { font-size: 1.1rem; margin-right: 12px; }
main { max-width: 1200px; margin: 0 auto; padding: 16px 24px; }
@media (max-width: 600px) { main { padding: 12px; } header { padding: 10px 12px; flex-wrap: wrap; gap: 8px; } }
.scroll { overflow-x: auto; } .toolbar { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; margin: 8px 0; }
th.sortable { cursor: pointer; user-select: none; } th.sortable::after { content: ' ↕'; color: #8c959f; }
#jobs-panel { max-height: 180px; overflow-y: auto; border: 1px solid #d0d7de; border-radius: 8px; padding: 0 10px; margin-bottom: 12px; }
#jobs-panel:empty, #jobs-panel.empty { display: none; }
.charts3 { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 12px; }
a.button, button.secondary { display: inline-block; padding: 4px 10px; border: 1px solid #8c959f; border-radius: 6px; color: #0969da; background: #fff; text-decoration: none; font-size: 0.9rem; }
button.danger { background: #fff; color: #a40e26; border-color: #a40e26; }
h1 { font-size: 1.35rem; } table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #d0d7de; }
th { background: #f6f8fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
form { display: flex; gap: 8px; margin: 8px 0 16px; flex-wrap: wrap; } input, select, button { font: inherit; padding: 6px 10px; border: 1px solid #8c959f; border-radius: 6px; }
input#reference { flex: 1 1 220px; min-width: 0; } button { background: #0969da; color: #fff; border-color: #0969da; cursor: pointer; }
.grade { display: inline-block; width: 28px; text-align: center; border-radius: 4px; color: #fff; font-weight: 700; }
.grade-A { background: #1a7f37; } .grade-B { background: #4d7c0f; } .grade-C { background: #7d4e00; } .grade-D { background: #bc4c00; } .grade-F { background: #a40e26; }
.job { padding: 6px 0; border-bottom: 1px solid #d0d7de; } progress { width: 240px; vertical-align: middle; }
.error { color: #a40e26; } .muted { color: #57606a; }
iframe { width: 100%; height: 600px; border: 0; display: block; }
svg text { font: 12px system-ui, sans-serif; fill: #1b1f24; } svg text.date, svg text.value { font-size: 11px; fill: #57606a; }
`;

const SCRIPT = `
const $ = (s) => document.querySelector(s);
const esc = (t) => String(t).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const mb = (b) => (b >= 1e9 ? (b / 1e9).toFixed(2) + ' GB' : b >= 1e6 ? (b / 1e6).toFixed(1) + ' MB' : (b / 1e3).toFixed(1) + ' kB');
const vulnTotal = (v) => Object.values(v).reduce((a, b) => a + b, 0);
const token = () => sessionStorage.getItem('token') || '';
const auth = () => (token() ? { authorization: 'Bearer ' + token() } : {});
/** A time relative to now, the exact time on hover. */
function when(iso) {
  const s = (Date.now() - Date.parse(iso)) / 1000;
  const text = s < 60 ? 'just now' : s < 3600 ? Math.floor(s / 60) + ' min ago' : s < 86400 ? Math.floor(s / 3600) + ' h ago' : Math.floor(s / 86400) + ' days ago';
  return '<time datetime="' + esc(iso) + '" title="' + esc(new Date(iso).toString()) + '">' + text + '</time>';
}
async function api(path, init) {
  const res = await fetch(path, init);
  const body = await res.json();
  if (!res.ok) throw new Error((body.error && (body.error.code + ': ' + body.error.message + (body.error.hint ? ' (' + body.error.hint + ')' : ''))) || res.statusText);
  return body;
}
function route() {
  const [view, query] = (location.hash.slice(1) || '/').split('?');
  const params = new URLSearchParams(query || '');
  if (view === '/image') return imageView(params.get('repo'));
  if (view === '/compare') return compareView(params.getAll('id'));
  return listView();
}
let images = [];
let sortKey = 'reference';
let sortUp = true;
const SORTS = { reference: (i) => i.reference, grade: (i) => i.score, classification: (i) => i.classification, size: (i) => i.sizeBytes, vulns: (i) => vulnTotal(i.vulnerabilities), scans: (i) => i.scans, last: (i) => i.createdAt };
async function listView() {
  $('main').innerHTML = '<h1>Images</h1>'
    + '<form id="scan-form"><input id="reference" placeholder="registry.example/app:1.2" aria-label="Image reference" required>'
    + '<input id="token" type="password" placeholder="API token (if the server needs one)" aria-label="API token">'
    + '<button id="scan-button" type="submit">Scan</button></form><div id="scan-error" class="error" role="alert"></div>'
    + '<div class="toolbar"><button id="clear-jobs" class="secondary" type="button">Clear finished jobs</button></div>'
    + '<div id="jobs-panel" class="empty"><div id="jobs" aria-live="polite"></div></div>'
    + '<div class="toolbar"><input id="search" type="search" placeholder="Search images" aria-label="Search images"></div>'
    + '<div class="scroll"><table id="images"><thead><tr>'
    + [['reference', 'image'], ['grade', 'grade'], ['classification', 'classification'], ['size', 'size'], ['vulns', 'vulnerabilities (crit/high/all)'], ['scans', 'scans'], ['last', 'last scan']]
      .map(([k, label]) => '<th class="sortable" data-sort="' + k + '" scope="col" aria-sort="none">' + label + '</th>').join('')
    + '</tr></thead><tbody></tbody></table></div>';
  $('#token').value = token();
  $('#scan-form').addEventListener('submit', submitScan);
  $('#search').addEventListener('input', drawImages);
  $('#clear-jobs').addEventListener('click', clearJobs);
  for (const th of document.querySelectorAll('th.sortable'))
    th.addEventListener('click', () => { sortUp = sortKey === th.dataset.sort ? !sortUp : true; sortKey = th.dataset.sort; drawImages(); });
  await refreshImages();
}
async function refreshImages() {
  images = await api('/api/images');
  drawImages();
}
function drawImages() {
  const body = $('#images tbody');
  if (!body) return;
  const q = ($('#search') ? $('#search').value : '').toLowerCase();
  const key = SORTS[sortKey];
  const shown = images.filter((i) => !q || (i.reference + ' ' + i.classification).toLowerCase().includes(q))
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) * (sortUp ? 1 : -1));
  for (const th of document.querySelectorAll('th.sortable')) th.setAttribute('aria-sort', th.dataset.sort === sortKey ? (sortUp ? 'ascending' : 'descending') : 'none');
  body.innerHTML = shown.length ? shown.map((i) => '<tr data-repository="' + esc(i.repository) + '"><td><a href="#/image?repo=' + encodeURIComponent(i.repository) + '">' + esc(i.reference) + '</a></td>'
    + '<td><span class="grade grade-' + esc(i.grade) + '">' + esc(i.grade) + '</span> ' + i.score + '</td><td>' + esc(i.classification) + '</td>'
    + '<td class="num">' + mb(i.sizeBytes) + '</td><td class="num">' + i.vulnerabilities.critical + '/' + i.vulnerabilities.high + '/' + vulnTotal(i.vulnerabilities) + '</td>'
    + '<td class="num">' + i.scans + '</td><td>' + when(i.createdAt) + '</td></tr>').join('')
    : '<tr><td colspan="7" class="muted">' + (images.length ? 'No image matches.' : 'No scans yet: scan an image above.') + '</td></tr>';
}
async function submitScan(event) {
  event.preventDefault();
  $('#scan-error').textContent = '';
  sessionStorage.setItem('token', $('#token').value);
  try {
    follow(await scan($('#reference').value));
  } catch (error) {
    $('#scan-error').textContent = error.message;
  }
}
const scan = (reference) => api('/api/scans', { method: 'POST', headers: { 'content-type': 'application/json', ...auth() }, body: JSON.stringify({ reference }) });
async function clearJobs() {
  await api('/api/jobs', { method: 'DELETE', headers: auth() }).catch(() => undefined);
  for (const row of document.querySelectorAll('#jobs .job')) if (row.dataset.state !== 'queued' && row.dataset.state !== 'running') row.remove();
  if (!document.querySelector('#jobs .job')) $('#jobs-panel').classList.add('empty');
}
function follow(job) {
  const row = document.createElement('div');
  row.className = 'job';
  row.id = 'job-' + job.id;
  $('#jobs').prepend(row);
  $('#jobs-panel').classList.remove('empty');
  const draw = (j) => {
    row.dataset.state = j.state;
    const pct = j.total ? Math.round((100 * j.bytes) / j.total) : null;
    row.innerHTML = '<strong>' + esc(j.reference) + '</strong> <span class="state">' + esc(j.state) + '</span>' + (j.state === 'running' ? ' · ' + esc(j.phase) : '')
      + (j.state === 'running' ? ' <progress max="100"' + (pct === null ? '' : ' value="' + pct + '"') + '></progress> ' + mb(j.bytes) : '')
      + (j.state === 'done' ? ' · <a class="open-report" href="#/image?repo=' + encodeURIComponent(j.repository) + '">open the report</a>' : '')
      + (j.error ? ' <span class="error">' + esc(j.error.code + ': ' + j.error.message) + '</span>' : '');
  };
  draw(job);
  const events = new EventSource('/api/jobs/' + job.id + '/events');
  const end = (e) => { draw(JSON.parse(e.data)); events.close(); if ($('#images')) refreshImages(); };
  events.addEventListener('progress', (e) => draw(JSON.parse(e.data)));
  events.addEventListener('done', end);
  events.addEventListener('failed', end);
}
/** One series over time on its own scale: y axis with three ticks, dates on x, the value at each point. */
function seriesChart(id, title, scans, value, format, color, fixedMax) {
  const w = 360, h = 190, left = 56, right = 16, top = 28, bottom = 40;
  const values = scans.map(value);
  // Counts get whole ticks (0, n/2, n with n even); sizes a tenth of headroom.
  const top0 = Math.max(1, ...values) * 1.1;
  const max = fixedMax || (values.every((v) => Number.isInteger(v)) ? Math.max(2, Math.ceil(top0 / 2) * 2) : top0);
  const x = (i) => left + (scans.length < 2 ? (w - left - right) / 2 : (i * (w - left - right)) / (scans.length - 1));
  const y = (v) => top + (1 - v / max) * (h - top - bottom);
  const ticks = [0, max / 2, max].map((t) => '<line x1="' + left + '" x2="' + (w - right) + '" y1="' + y(t).toFixed(1) + '" y2="' + y(t).toFixed(1) + '" stroke="#d0d7de"/>'
    + '<text x="' + (left - 6) + '" y="' + (y(t) + 4).toFixed(1) + '" text-anchor="end">' + esc(format(t)) + '</text>').join('');
  const path = values.map((v, i) => (i ? 'L' : 'M') + x(i).toFixed(1) + ' ' + y(v).toFixed(1)).join(' ');
  const points = values.map((v, i) => '<circle cx="' + x(i).toFixed(1) + '" cy="' + y(v).toFixed(1) + '" r="4" fill="' + color + '"><title>' + esc(scans[i].createdAt + ': ' + format(v)) + '</title></circle>'
    + '<text class="value" x="' + x(i).toFixed(1) + '" y="' + (y(v) - 8).toFixed(1) + '" text-anchor="middle">' + esc(format(v)) + '</text>'
    + '<text class="date" x="' + x(i).toFixed(1) + '" y="' + (h - bottom + 16) + '" text-anchor="middle">' + esc(scans[i].createdAt.slice(5, 10)) + '</text>').join('');
  const desc = scans.map((s, i) => s.createdAt + ': ' + format(values[i])).join('; ');
  return '<svg id="' + id + '" class="series" viewBox="0 0 ' + w + ' ' + h + '" width="100%" role="img" aria-labelledby="' + id + '-t ' + id + '-d"><title id="' + id + '-t">' + esc(title) + '</title><desc id="' + id + '-d">' + esc(desc) + '</desc>'
    + '<text x="' + left + '" y="16" font-weight="600">' + esc(title) + '</text>' + ticks
    + '<line x1="' + left + '" x2="' + left + '" y1="' + top + '" y2="' + (h - bottom) + '" stroke="#8c959f"/><line x1="' + left + '" x2="' + (w - right) + '" y1="' + (h - bottom) + '" y2="' + (h - bottom) + '" stroke="#8c959f"/>'
    + '<path d="' + path + '" fill="none" stroke="' + color + '" stroke-width="2"/>' + points + '</svg>';
}
function historyCharts(scans) {
  const desc = scans.map((s) => s.createdAt + ': grade ' + s.grade + ' (' + s.score + '), ' + mb(s.sizeBytes) + ', ' + vulnTotal(s.vulnerabilities) + ' vulnerabilities').join('; ');
  return '<div id="history-chart" class="charts3" role="group" aria-label="Score, size and vulnerabilities over time" data-summary="' + esc(desc) + '">'
    + seriesChart('chart-score', 'Score', scans, (s) => s.score, (v) => String(Math.round(v)), '#1a7f37', 100)
    + seriesChart('chart-size', 'Size (uncompressed)', scans, (s) => s.sizeBytes, mb, '#0969da')
    + seriesChart('chart-vulns', 'Known vulnerabilities', scans, (s) => vulnTotal(s.vulnerabilities), (v) => String(Math.round(v)), '#a40e26')
    + '</div>';
}
const FORMATS = [['json', 'JSON'], ['sarif', 'SARIF'], ['cyclonedx', 'CycloneDX'], ['spdx', 'SPDX'], ['html', 'HTML']];
async function imageView(repo) {
  const scans = await api('/api/history?repository=' + encodeURIComponent(repo));
  const latest = scans[scans.length - 1];
  const first = scans[0];
  $('main').innerHTML = '<h1>' + esc(repo) + '</h1>'
    + (latest ? '<div class="toolbar" id="actions"><button id="rescan" type="button">Rescan</button><button id="delete" class="danger" type="button">Delete</button>'
      + FORMATS.map(([f, label]) => '<a class="button download" download href="/api/scans/' + encodeURIComponent(latest.id) + '/report?format=' + f + '&download=1">' + label + '</a>').join('') + '</div><div id="action-result" role="status"></div>' : '')
    + '<section id="history"><h2>History (' + scans.length + ' scans)</h2>' + historyCharts(scans)
    + '<div class="scroll"><table id="scans"><thead><tr><th>scanned</th><th>reference</th><th>grade</th><th>size</th><th>vulnerabilities</th><th>compare</th></tr></thead><tbody>'
    + scans.map((s) => '<tr><td>' + when(s.createdAt) + '</td><td>' + esc(s.reference) + '</td><td><span class="grade grade-' + esc(s.grade) + '">' + esc(s.grade) + '</span></td><td class="num">' + mb(s.sizeBytes) + '</td><td class="num">' + vulnTotal(s.vulnerabilities) + '</td>'
      + '<td>' + (s.id === first.id ? '<span class="muted">first scan</span>' : '<a href="#/compare?id=' + encodeURIComponent(first.id) + '&id=' + encodeURIComponent(s.id) + '">with the first</a>') + '</td></tr>').join('') + '</tbody></table></div></section>'
    + (latest ? '<h2>Latest report</h2><iframe id="report-frame" title="Latest report" scrolling="no" src="/api/scans/' + encodeURIComponent(latest.id) + '/report?format=html&embed=1"></iframe>' : '');
  if (!latest) return;
  // The report is part of the page: the frame takes its content's height, no scroll inside a scroll.
  const frame = $('#report-frame');
  const fit = () => { try { frame.style.height = frame.contentDocument.documentElement.scrollHeight + 'px'; } catch (e) { /* not loaded */ } };
  frame.addEventListener('load', () => { fit(); setTimeout(fit, 300); });
  $('#rescan').addEventListener('click', async () => {
    try { const job = await scan(latest.reference); $('#action-result').textContent = 'scan queued (' + job.id + ')'; } catch (error) { $('#action-result').textContent = error.message; }
  });
  $('#delete').addEventListener('click', async () => {
    if (!confirm('Delete the ' + scans.length + ' scans of ' + repo + '?')) return;
    try {
      for (const s of scans) await api('/api/scans/' + encodeURIComponent(s.id), { method: 'DELETE', headers: auth() });
      location.hash = '#/';
    } catch (error) { $('#action-result').textContent = error.message; }
  });
}
async function compareView(ids) {
  const list = await api('/api/images');
  const options = list.map((i) => '<option value="' + esc(i.id) + '">' + esc(i.reference) + '</option>').join('');
  $('main').innerHTML = '<h1>Compare</h1><form id="compare-form"><select id="compare-a" aria-label="Baseline">' + options + '</select><select id="compare-b" aria-label="Other image">' + options + '</select><button id="compare-button" type="submit">Compare</button></form>'
    + (ids.length >= 2 ? '<iframe id="compare-frame" title="Comparison" scrolling="no" src="/api/compare?' + ids.map((id) => 'id=' + encodeURIComponent(id)).join('&') + '&format=html&embed=1"></iframe>' : '<p class="muted">Pick two images.</p>');
  if (ids[0]) $('#compare-a').value = ids[0];
  if (ids[1]) $('#compare-b').value = ids[1];
  $('#compare-form').addEventListener('submit', (e) => { e.preventDefault(); location.hash = '#/compare?id=' + encodeURIComponent($('#compare-a').value) + '&id=' + encodeURIComponent($('#compare-b').value); });
  const frame = $('#compare-frame');
  if (frame) frame.addEventListener('load', () => { try { frame.style.height = frame.contentDocument.documentElement.scrollHeight + 'px'; } catch (e) { /* not loaded */ } });
}
window.addEventListener('hashchange', () => route().catch(show));
const show = (error) => { $('main').innerHTML = '<p class="error" role="alert">' + esc(error.message) + '</p>'; };
route().catch(show);
`;

export const UI_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>distrolens</title>
<style>${STYLE}</style>
</head>
<body>
<header><strong>distrolens</strong><nav><a href="#/">Images</a> · <a href="#/compare">Compare</a> · <a href="/fleet">Fleet</a> · <a href="/workloads">Workloads</a></nav></header>
<main></main>
<script>${SCRIPT}</script>
</body>
</html>
`;
