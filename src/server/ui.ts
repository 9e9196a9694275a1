/**
 * The web UI of `serve`: one page, no build step, no third-party code, built only on the HTTP
 * API (the same endpoints scripts use). Views by URL hash: the image list with a scan form and
 * live progress (#/), an image's history and latest report (#/image?repo=…), a comparison of two
 * scans (#/compare?id=…&id=…). Reports are the HTML report, framed from the API.
 */
const STYLE = `
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1b1f24; margin: 0; }
header { background: #1b1f24; color: #fff; padding: 10px 24px; display: flex; gap: 24px; align-items: center; }
header a { color: #fff; text-decoration: none; } header strong { font-size: 1.1rem; margin-right: 12px; }
main { max-width: 1200px; margin: 0 auto; padding: 16px 24px; }
h1 { font-size: 1.35rem; } table { border-collapse: collapse; width: 100%; } th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #d0d7de; }
th { background: #f6f8fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
form { display: flex; gap: 8px; margin: 8px 0 16px; flex-wrap: wrap; } input, select, button { font: inherit; padding: 6px 10px; border: 1px solid #8c959f; border-radius: 6px; }
input#reference { flex: 1; min-width: 320px; } button { background: #0969da; color: #fff; border-color: #0969da; cursor: pointer; }
.grade { display: inline-block; width: 28px; text-align: center; border-radius: 4px; color: #fff; font-weight: 700; }
.grade-A { background: #1a7f37; } .grade-B { background: #4d7c0f; } .grade-C { background: #7d4e00; } .grade-D { background: #bc4c00; } .grade-F { background: #a40e26; }
.job { padding: 6px 0; border-bottom: 1px solid #d0d7de; } progress { width: 240px; vertical-align: middle; }
.error { color: #a40e26; } .muted { color: #57606a; }
iframe { width: 100%; height: 1400px; border: 1px solid #d0d7de; border-radius: 8px; }
svg text { font: 12px system-ui, sans-serif; fill: #1b1f24; }
`;

const SCRIPT = `
const $ = (s) => document.querySelector(s);
const esc = (t) => String(t).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const mb = (b) => (b >= 1e9 ? (b / 1e9).toFixed(2) + ' GB' : b >= 1e6 ? (b / 1e6).toFixed(1) + ' MB' : (b / 1e3).toFixed(1) + ' kB');
const vulnTotal = (v) => Object.values(v).reduce((a, b) => a + b, 0);
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
async function listView() {
  $('main').innerHTML = '<h1>Images</h1>'
    + '<form id="scan-form"><input id="reference" placeholder="registry.example/app:1.2" aria-label="Image reference" required>'
    + '<input id="token" type="password" placeholder="API token (if the server needs one)" aria-label="API token">'
    + '<button id="scan-button" type="submit">Scan</button></form><div id="scan-error" class="error" role="alert"></div>'
    + '<div id="jobs" aria-live="polite"></div>'
    + '<table id="images"><thead><tr><th>image</th><th>grade</th><th>classification</th><th>size</th><th>vulnerabilities (crit/high/all)</th><th>scans</th><th>last scan</th></tr></thead><tbody></tbody></table>';
  $('#token').value = sessionStorage.getItem('token') || '';
  $('#scan-form').addEventListener('submit', submitScan);
  await refreshImages();
}
async function refreshImages() {
  const images = await api('/api/images');
  const body = $('#images tbody');
  if (!body) return;
  body.innerHTML = images.length ? images.map((i) => '<tr data-repository="' + esc(i.repository) + '"><td><a href="#/image?repo=' + encodeURIComponent(i.repository) + '">' + esc(i.reference) + '</a></td>'
    + '<td><span class="grade grade-' + esc(i.grade) + '">' + esc(i.grade) + '</span> ' + i.score + '</td><td>' + esc(i.classification) + '</td>'
    + '<td class="num">' + mb(i.sizeBytes) + '</td><td class="num">' + i.vulnerabilities.critical + '/' + i.vulnerabilities.high + '/' + vulnTotal(i.vulnerabilities) + '</td>'
    + '<td class="num">' + i.scans + '</td><td>' + esc(i.createdAt) + '</td></tr>').join('')
    : '<tr><td colspan="7" class="muted">No scans yet: scan an image above.</td></tr>';
}
async function submitScan(event) {
  event.preventDefault();
  $('#scan-error').textContent = '';
  const token = $('#token').value;
  sessionStorage.setItem('token', token);
  try {
    const job = await api('/api/scans', { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: 'Bearer ' + token } : {}) }, body: JSON.stringify({ reference: $('#reference').value }) });
    follow(job);
  } catch (error) {
    $('#scan-error').textContent = error.message;
  }
}
function follow(job) {
  const row = document.createElement('div');
  row.className = 'job';
  row.id = 'job-' + job.id;
  $('#jobs').prepend(row);
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
  const end = (e) => { draw(JSON.parse(e.data)); events.close(); refreshImages(); };
  events.addEventListener('progress', (e) => draw(JSON.parse(e.data)));
  events.addEventListener('done', end);
  events.addEventListener('failed', end);
}
function historyChart(scans) {
  const w = 640, h = 180, pad = 40;
  const x = (i) => pad + (scans.length < 2 ? (w - 2 * pad) / 2 : (i * (w - 2 * pad)) / (scans.length - 1));
  const maxSize = Math.max(1, ...scans.map((s) => s.sizeBytes));
  const maxVulns = Math.max(1, ...scans.map((s) => vulnTotal(s.vulnerabilities)));
  const line = (f, max) => scans.map((s, i) => (i ? 'L' : 'M') + x(i).toFixed(1) + ' ' + (h - pad - (f(s) / max) * (h - 2 * pad)).toFixed(1)).join(' ');
  const desc = scans.map((s) => s.createdAt + ': grade ' + s.grade + ' (' + s.score + '), ' + mb(s.sizeBytes) + ', ' + vulnTotal(s.vulnerabilities) + ' vulnerabilities').join('; ');
  return '<svg id="history-chart" viewBox="0 0 ' + w + ' ' + h + '" width="100%" role="img" aria-labelledby="hc-t hc-d"><title id="hc-t">Score, size and vulnerabilities over time</title><desc id="hc-d">' + esc(desc) + '</desc>'
    + '<path d="' + line((s) => s.score, 100) + '" fill="none" stroke="#1a7f37" stroke-width="2"/>'
    + '<path d="' + line((s) => s.sizeBytes, maxSize) + '" fill="none" stroke="#0969da" stroke-width="2" stroke-dasharray="6 3"/>'
    + '<path d="' + line((s) => vulnTotal(s.vulnerabilities), maxVulns) + '" fill="none" stroke="#a40e26" stroke-width="2" stroke-dasharray="2 3"/>'
    + scans.map((s, i) => '<circle cx="' + x(i).toFixed(1) + '" cy="' + (h - pad - (s.score / 100) * (h - 2 * pad)).toFixed(1) + '" r="4" fill="#1a7f37"><title>' + esc(s.createdAt + ' grade ' + s.grade) + '</title></circle>'
      + '<text x="' + x(i).toFixed(1) + '" y="' + (h - 12) + '" text-anchor="middle">' + esc(s.grade) + '</text>').join('')
    + '<text x="' + pad + '" y="14">score (green), size (blue, dashed), vulnerabilities (red, dotted)</text></svg>';
}
async function imageView(repo) {
  const scans = await api('/api/history?repository=' + encodeURIComponent(repo));
  const latest = scans[scans.length - 1];
  $('main').innerHTML = '<h1>' + esc(repo) + '</h1><section id="history"><h2>History (' + scans.length + ' scans)</h2>' + historyChart(scans)
    + '<table id="scans"><thead><tr><th>scanned</th><th>reference</th><th>grade</th><th>size</th><th>vulnerabilities</th><th>compare</th></tr></thead><tbody>'
    + scans.map((s) => '<tr><td>' + esc(s.createdAt) + '</td><td>' + esc(s.reference) + '</td><td><span class="grade grade-' + esc(s.grade) + '">' + esc(s.grade) + '</span></td><td class="num">' + mb(s.sizeBytes) + '</td><td class="num">' + vulnTotal(s.vulnerabilities) + '</td>'
      + '<td><a href="#/compare?id=' + encodeURIComponent(scans[0].id) + '&id=' + encodeURIComponent(s.id) + '">with the first</a></td></tr>').join('') + '</tbody></table></section>'
    + (latest ? '<h2>Latest report</h2><iframe id="report-frame" title="Latest report" src="/api/scans/' + encodeURIComponent(latest.id) + '/report?format=html&embed=1"></iframe>' : '');
}
async function compareView(ids) {
  const images = await api('/api/images');
  const options = images.map((i) => '<option value="' + esc(i.id) + '">' + esc(i.reference) + '</option>').join('');
  $('main').innerHTML = '<h1>Compare</h1><form id="compare-form"><select id="compare-a" aria-label="Baseline">' + options + '</select><select id="compare-b" aria-label="Other image">' + options + '</select><button id="compare-button" type="submit">Compare</button></form>'
    + (ids.length >= 2 ? '<iframe id="compare-frame" title="Comparison" src="/api/compare?' + ids.map((id) => 'id=' + encodeURIComponent(id)).join('&') + '&format=html&embed=1"></iframe>' : '<p class="muted">Pick two images.</p>');
  if (ids[0]) $('#compare-a').value = ids[0];
  if (ids[1]) $('#compare-b').value = ids[1];
  $('#compare-form').addEventListener('submit', (e) => { e.preventDefault(); location.hash = '#/compare?id=' + encodeURIComponent($('#compare-a').value) + '&id=' + encodeURIComponent($('#compare-b').value); });
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
<header><strong>distrolens</strong><nav><a href="#/">Images</a> · <a href="#/compare">Compare</a></nav></header>
<main></main>
<script>${SCRIPT}</script>
</body>
</html>
`;
