// otpctl's web page: the live tree, its events and the steering buttons.
// Plain JavaScript, served by otpctl itself. Every text from the tree goes
// into the page as textContent, never as HTML.
'use strict';

const TOKEN_KEY = 'otpctl.token';
const MAX_EVENTS = 1000;       // events kept by the page (the panel's rows)
const TREE_EVERY_MS = 200;     // the tree is read again at most this often
const MAX_FRAME = 1 << 20;     // a server-sent event larger than this ends the stream

const $ = (id) => document.getElementById(id);

// The token: taken from ?token= in the address (then removed from it, so it
// is neither bookmarked nor shown), kept in sessionStorage for this tab.
function takeTokenFromAddress() {
  const url = new URL(location.href);
  if (!url.searchParams.has('token')) return;
  const token = url.searchParams.get('token');
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  url.searchParams.delete('token');
  history.replaceState(null, '', url.pathname + url.search + url.hash);
}

function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { Authorization: 'Bearer ' + token } : {};
}

let tokenEntered = null; // resolves when the user gives a token
function needToken() {
  $('auth').hidden = false;
  if (!tokenEntered) {
    tokenEntered = new Promise((resolve) => { needToken.resolve = resolve; });
  }
  return tokenEntered;
}

$('auth-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const token = $('auth-token').value.trim();
  if (!token) return;
  sessionStorage.setItem(TOKEN_KEY, token);
  $('auth-token').value = '';
  $('auth').hidden = true;
  if (needToken.resolve) needToken.resolve();
  tokenEntered = null;
  setStatus('Token set: try again.', false);
});

function setConn(text, ok) {
  const el = $('conn');
  el.textContent = text;
  el.classList.toggle('bad', !ok);
}

// ---- Time -----------------------------------------------------------------

// skew is the server's clock minus ours, read from the Date header of the
// tree's replies (whole seconds: a skew under 2 s is taken as none).
let skew = 0;

function fmtDuration(ms) {
  let s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  if (d) return d + 'd ' + h + 'h';
  if (h) return h + 'h ' + m + 'm';
  if (m) return m + 'm ' + s + 's';
  return s + 's';
}

function uptime(started) {
  if (!started) return '';
  return fmtDuration(Date.now() + skew - Date.parse(started));
}

function fmtClock(t) {
  const d = new Date(t);
  if (isNaN(d)) return '';
  const p = (n, w) => String(n).padStart(w, '0');
  return p(d.getHours(), 2) + ':' + p(d.getMinutes(), 2) + ':' + p(d.getSeconds(), 2) + '.' + p(d.getMilliseconds(), 3);
}

// ---- The tree -------------------------------------------------------------

const nodes = new Map(); // path -> the node's elements, kept across reads
let current = null;      // the last tree read
let selected = '';       // the selected node's path

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

// buildNode makes the elements of one node: a row of cells, and for a
// supervisor the list of its children.
function buildNode(n, sup) {
  const li = el('li', 'node ' + (sup ? 'sup' : 'worker'));
  li.dataset.path = n.path;
  const row = el('div', 'row' + (sup ? ' head' : ''));
  const nameCell = el('span', 'cell-name');
  const name = el('button', 'name');
  name.type = 'button';
  name.addEventListener('click', () => select(n.path));
  const kind = el('span', 'kind');
  nameCell.append(name, kind);
  const v = {
    li, row, sup, name, kind,
    state: el('span', 'state'),
    uptime: el('span', 'uptime'),
    restarts: el('span', 'restarts num'),
    pid: el('span', 'pid mono'),
    ospid: el('span', 'ospid num mono'),
    last: el('span', sup ? 'budget' : 'health'),
    kids: null,
  };
  if (sup) {
    v.meter = el('span', 'meter');
    v.meter.setAttribute('role', 'meter');
    v.meter.setAttribute('aria-valuemin', '0');
    v.fill = el('span', 'fill');
    v.meter.append(v.fill);
    v.budgetText = el('span', 'budget-text');
    v.last.append(v.meter, v.budgetText);
  }
  row.append(nameCell, v.state, v.uptime, v.restarts, v.pid, v.ospid, v.last);
  li.append(row);
  if (sup) {
    v.kids = el('ul', 'kids');
    li.append(v.kids);
  }
  return v;
}

// health is where a node's health shows once the tree reports it: a text,
// or an object with a status (and maybe a reason).
function healthText(h) {
  if (h === undefined || h === null) return '';
  if (typeof h === 'string') return h;
  if (typeof h === 'object') {
    const last = h.last && h.last !== 'ok' ? h.last : h.reason;
    return [h.status, last].filter(Boolean).join(': ');
  }
  return String(h);
}

function updateNode(v, n) {
  v.li.dataset.state = n.state;
  v.li.dataset.restarts = String(n.restarts || 0);
  v.name.textContent = n.name || n.path;
  v.name.setAttribute('aria-pressed', String(n.path === selected));
  v.row.classList.toggle('selected', n.path === selected);
  let kind = v.sup ? (n.strategy || '') : (n.kind || '');
  if (n.dynamic) kind = 'dynamic · ' + (n.kind || '');
  v.kind.textContent = kind;
  v.state.textContent = n.restart_in ? n.state + ' in ' + n.restart_in : n.state;
  v.state.className = 'state st-' + n.state;
  v.started = n.state === 'running' ? n.started : '';
  v.uptime.textContent = uptime(v.started);
  v.restarts.textContent = String(n.restarts || 0);
  v.pid.textContent = n.pid || '';
  v.ospid.textContent = n.os_pid ? String(n.os_pid) : '';
  if (v.sup) {
    const b = n.budget;
    v.meter.hidden = !b;
    if (b) {
      const frac = b.max > 0 ? Math.min(1, b.used / b.max) : (b.used > 0 ? 1 : 0);
      v.fill.style.width = (frac * 100).toFixed(0) + '%';
      v.meter.classList.toggle('warn', frac >= 0.5 && frac < 1);
      v.meter.classList.toggle('full', frac >= 1);
      v.meter.setAttribute('aria-valuemax', String(b.max));
      v.meter.setAttribute('aria-valuenow', String(b.used));
      v.meter.setAttribute('aria-valuetext', b.used + ' of ' + b.max + ' restarts used in ' + b.period);
      v.meter.setAttribute('aria-label', 'restart budget of ' + n.path);
      v.budgetText.textContent = b.used + '/' + b.max + ' in ' + b.period;
    } else {
      v.budgetText.textContent = n.dynamic && n.max_children ? (n.children || []).length + '/' + n.max_children + ' children' : '';
    }
  } else {
    v.last.textContent = healthText(n.health);
  }
}

// parseDuration reads a Go duration ("5s", "1m30s", "250ms") in
// milliseconds; NaN when it cannot.
function parseDuration(text) {
  const units = { h: 3600e3, m: 60e3, s: 1e3, ms: 1, us: 1e-3, 'µs': 1e-3, ns: 1e-6 };
  const parts = String(text).match(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g);
  if (!parts || parts.join('') !== text) return NaN;
  let ms = 0;
  for (const p of parts) {
    const [, n, u] = p.match(/(\d+(?:\.\d+)?)(.*)/);
    ms += parseFloat(n) * units[u];
  }
  return ms;
}

// A restart budget empties as its period passes, with no event to say so:
// while one is in use, the tree is read again once the shortest period of
// those in use has passed.
let budgetTimer = null;
function watchBudgets(root) {
  let wait = Infinity;
  const walk = (n) => {
    if (n.budget && n.budget.used > 0) wait = Math.min(wait, parseDuration(n.budget.period) || Infinity);
    (n.children || []).forEach(walk);
  };
  walk(root);
  clearTimeout(budgetTimer);
  budgetTimer = null;
  if (wait < Infinity) budgetTimer = setTimeout(readTreeSoon, Math.max(wait, TREE_EVERY_MS) + 50);
}

function renderTree(root) {
  current = root;
  watchBudgets(root);
  $('tree-name').textContent = root.name || root.path;
  document.title = 'otpctl ' + (root.name || root.path);
  $('tree-empty').hidden = true;
  const seen = new Set();
  const top = place(root, seen);
  sync($('tree'), [top.li]);
  for (const path of nodes.keys()) {
    if (!seen.has(path)) nodes.delete(path);
  }
  renderDetail();
}

function place(n, seen) {
  seen.add(n.path);
  const sup = n.type === 'supervisor';
  let v = nodes.get(n.path);
  if (!v || v.sup !== sup) {
    v = buildNode(n, sup);
    nodes.set(n.path, v);
  }
  updateNode(v, n);
  if (sup) sync(v.kids, (n.children || []).map((c) => place(c, seen).li));
  return v;
}

// sync makes want the children of parent, touching nothing when they are
// already (so a focused button keeps its focus).
function sync(parent, want) {
  const have = parent.children;
  if (have.length === want.length && want.every((e, i) => have[i] === e)) return;
  parent.replaceChildren(...want);
}

function findNode(root, path) {
  if (!root) return null;
  if (root.path === path) return root;
  for (const c of root.children || []) {
    if (path === c.path || path.startsWith(c.path + '/')) return findNode(c, path);
  }
  return null;
}

// The uptimes tick locally between reads of the tree.
setInterval(() => {
  for (const v of nodes.values()) v.uptime.textContent = uptime(v.started);
}, 1000);

// Tree reads: at most one every TREE_EVERY_MS, the last always done, and a
// reply older than the one shown is dropped.
let treeTimer = null;
let lastRead = 0;
let asked = 0;
let shown = 0;

function readTreeSoon() {
  if (treeTimer) return;
  const wait = Math.max(0, lastRead + TREE_EVERY_MS - Date.now());
  treeTimer = setTimeout(() => {
    treeTimer = null;
    lastRead = Date.now();
    readTree();
  }, wait);
}

async function readTree() {
  const n = ++asked;
  let res;
  try {
    res = await fetch('/v1/tree', { headers: authHeaders(), cache: 'no-store' });
  } catch (e) {
    return; // the event stream reports the connection
  }
  if (res.status === 401) {
    needToken().then(readTreeSoon);
    return;
  }
  if (!res.ok) return;
  const root = await res.json();
  if (n < shown) return;
  shown = n;
  const date = Date.parse(res.headers.get('Date') || '');
  if (!isNaN(date)) {
    const d = date - Date.now();
    skew = Math.abs(d) < 2000 ? 0 : d;
  }
  renderTree(root);
}

// ---- The selected node ----------------------------------------------------

function select(path) {
  selected = path;
  for (const [p, v] of nodes) {
    v.name.setAttribute('aria-pressed', String(p === selected));
    v.row.classList.toggle('selected', p === selected);
  }
  setStatus('', false);
  renderDetail();
  loadLogLines(path);
}

function fact(dl, name, value) {
  if (value === undefined || value === null || value === '') return;
  dl.append(el('dt', '', name), el('dd', '', String(value)));
}

function renderDetail() {
  const n = selected ? findNode(current, selected) : null;
  $('detail-empty').hidden = !!n;
  $('detail-body').hidden = !n;
  $('d-path').textContent = n ? n.path : '';
  if (!n) return;
  const dl = $('d-facts');
  dl.replaceChildren();
  fact(dl, 'state', n.state);
  fact(dl, n.type === 'supervisor' ? 'strategy' : 'kind', n.type === 'supervisor' ? n.strategy : n.kind);
  fact(dl, 'pid', n.pid);
  fact(dl, 'OS pid', n.os_pid);
  fact(dl, 'restarts', n.restarts || 0);
  fact(dl, 'crash restarts', n.crash_restarts || 0);
  fact(dl, 'last restart', n.last_restart && fmtClock(n.last_restart));
  fact(dl, 'last exit', n.last_exit && n.last_exit.reason + ' at ' + fmtClock(n.last_exit.at));
  fact(dl, 'restart', n.restart);
  fact(dl, 'shutdown', n.shutdown);
  fact(dl, 'backoff', n.backoff);
  fact(dl, 'budget', n.budget && n.budget.used + '/' + n.budget.max + ' in ' + n.budget.period);
  fact(dl, 'health', healthText(n.health));
  const running = n.state === 'running';
  const btn = (op) => document.querySelector('.actions [data-op="' + op + '"]');
  btn('stop').disabled = n.state === 'stopped';
  btn('kill').disabled = !running;
  btn('start').disabled = running && !n.dynamic;
  renderLines();
}

// loadLogLines fetches the selected node's last output lines (GET
// /v1/logs, as `otpctl logs PATH -n 100` reads them) and shows them; a node
// without any (an actor, a supervisor of actors) keeps showing its last
// events. Lines are shown as text only.
let logLines = null; // {path, lines} once loadLogLines has some
async function loadLogLines(path) {
  logLines = null;
  let res;
  try {
    res = await fetch('/v1/logs?n=100&path=' + encodeURIComponent(path), { headers: authHeaders(), cache: 'no-store' });
  } catch (e) {
    return;
  }
  if (!res.ok || path !== selected) return;
  const lines = [];
  for (const text of (await res.text()).split('\n')) {
    if (!text) continue;
    let l;
    try {
      l = JSON.parse(text);
    } catch (e) {
      continue;
    }
    if (l.error) break; // the server cut the stream off
    const who = l.path === path ? '' : l.path;
    lines.push(fmtClock(l.time) + ' ' + who + '[' + l.os_pid + '] ' + l.stream + ': ' + l.line);
  }
  if (lines.length && path === selected) showLogLines(path, lines);
}

function showLogLines(path, lines) {
  logLines = { path, lines };
  renderLines();
}

function renderLines() {
  const ol = $('d-lines');
  if (logLines && logLines.path === selected) {
    $('d-lines-h').textContent = 'Last log lines';
    ol.replaceChildren(...logLines.lines.map((l) => el('li', 'mono', l)));
    return;
  }
  $('d-lines-h').textContent = 'Last events';
  const mine = [];
  for (let i = events.length - 1; i >= 0 && mine.length < 20; i--) {
    const e = events[i];
    if (e.path === selected || (e.path || '').startsWith(selected + '/')) mine.push(e);
  }
  ol.replaceChildren(...mine.map(eventRow));
  if (!mine.length) ol.append(el('li', 'muted', 'No events kept for it.'));
}

function setStatus(text, bad) {
  const s = $('action-status');
  s.textContent = text;
  s.classList.toggle('bad', bad);
}

// Steering goes through the same endpoints as the command line's.
async function steer(op) {
  const path = selected;
  if (!path) return;
  setStatus(op + ' ' + path + '…', false);
  let res;
  try {
    res = await fetch('/v1/' + op, {
      method: 'POST',
      headers: Object.assign({ 'Content-Type': 'application/json' }, authHeaders()),
      body: JSON.stringify({ path }),
    });
  } catch (e) {
    setStatus(op + ' ' + path + ': ' + e.message, true);
    return;
  }
  if (res.status === 401) {
    needToken();
    setStatus(op + ' ' + path + ': refused without the token (401). Give the token above, then try again.', true);
    return;
  }
  let body = {};
  try { body = await res.json(); } catch (e) { /* not JSON */ }
  if (!res.ok) {
    setStatus(op + ' ' + path + ': ' + (body.error || res.status + ' ' + res.statusText), true);
    return;
  }
  setStatus(op + ' ' + path + ': done' + (body.pid ? ' (pid ' + body.pid + ')' : ''), false);
  readTreeSoon();
}

for (const b of document.querySelectorAll('.actions [data-op]')) {
  b.addEventListener('click', () => steer(b.dataset.op));
}

// ---- Events ---------------------------------------------------------------

const events = [];   // the last MAX_EVENTS, oldest first
let pending = [];    // received, not yet drawn
let drawTimer = null;

function eventDetail(e) {
  const parts = [];
  if (e.cause) parts.push('cause ' + e.cause);
  if (e.trigger) parts.push('trigger ' + e.trigger);
  if (e.reason) parts.push('reason ' + e.reason);
  if (e.signal) parts.push('signal ' + e.signal);
  if (e.os_pid) parts.push('os_pid ' + e.os_pid);
  if (e.pid && e.event === 'started') parts.push('pid ' + e.pid);
  for (const k of ['added', 'removed', 'changed', 'updated', 'failed']) {
    if (e[k] && e[k].length) parts.push(k + ' ' + e[k].join(' '));
  }
  if (e.errors && e.errors.length) parts.push(e.errors.join('; '));
  return parts.join(' · ');
}

function eventRow(e) {
  const li = el('li', 'ev');
  li.dataset.path = e.path || '';
  li.dataset.event = e.event;
  li.append(
    el('span', 'ev-time mono', fmtClock(e.time)),
    el('span', 'ev-type ev-' + e.event, e.event),
    el('span', 'ev-path mono', e.path || ''),
    el('span', 'ev-detail', eventDetail(e)),
  );
  return li;
}

function filterText() { return $('filter').value.trim(); }
function shownBy(filter, path) { return !filter || path.includes(filter); }

function addEvent(e) {
  pending.push(e);
  if (pending.length > 2 * MAX_EVENTS) pending = pending.slice(-MAX_EVENTS);
  if (!drawTimer) drawTimer = setTimeout(drawEvents, 0);
}

function drawEvents() {
  drawTimer = null;
  const batch = pending.slice(-MAX_EVENTS);
  pending = [];
  events.push(...batch);
  if (events.length > MAX_EVENTS) events.splice(0, events.length - MAX_EVENTS);
  const list = $('events');
  const filter = filterText();
  const frag = document.createDocumentFragment();
  for (let i = batch.length - 1; i >= 0; i--) {
    const row = eventRow(batch[i]);
    row.hidden = !shownBy(filter, row.dataset.path);
    frag.append(row);
  }
  list.prepend(frag);
  while (list.children.length > MAX_EVENTS) list.lastElementChild.remove();
  countEvents();
  if (selected) renderLines();
}

function countEvents() {
  const rows = $('events').children;
  let n = 0;
  for (const r of rows) if (!r.hidden) n++;
  $('events-count').textContent = filterText() ? n + ' of ' + rows.length : String(rows.length);
}

$('filter').addEventListener('input', () => {
  const filter = filterText();
  for (const r of $('events').children) r.hidden = !shownBy(filter, r.dataset.path);
  countEvents();
});

// follow reads the server-sent event stream (GET /v1/events?sse=1) with
// fetch rather than EventSource, which cannot send the Authorization
// header a listener off loopback needs for every request. After a drop it
// reconnects from the last event it has, waiting longer each time (at most
// 10 s).
let lastSeq = 0;

async function follow() {
  let delay = 500;
  for (;;) {
    try {
      const res = await fetch('/v1/events?sse=1&since=' + lastSeq, { headers: authHeaders(), cache: 'no-store' });
      if (res.status === 401) {
        setConn('needs the token', false);
        await needToken();
        continue;
      }
      if (!res.ok) throw new Error(res.status + ' ' + res.statusText);
      setConn('live', true);
      delay = 500;
      readTreeSoon();
      await readStream(res.body);
      setConn('the event stream ended (has the tree stopped?); reconnecting…', false);
    } catch (e) {
      setConn('disconnected (' + e.message + '); reconnecting…', false);
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 10000);
  }
}

async function readStream(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let end;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      frame(buf.slice(0, end));
      buf = buf.slice(end + 2);
    }
    if (buf.length > MAX_FRAME) {
      reader.cancel();
      throw new Error('an event over ' + MAX_FRAME + ' bytes');
    }
  }
}

// frame handles one server-sent event: an event of the tree (its data is
// the event's JSON), or the stream's last, slow_follower.
function frame(text) {
  let type = 'message';
  let data = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('data: ')) data += line.slice(6);
    else if (line.startsWith('event: ')) type = line.slice(7);
  }
  if (!data) return;
  const obj = JSON.parse(data);
  if (type === 'slow_follower') {
    setConn('cut off: ' + obj.error, false);
    return;
  }
  if (obj.seq) lastSeq = obj.seq;
  addEvent(obj);
  readTreeSoon();
}

takeTokenFromAddress();
readTreeSoon();
follow();
