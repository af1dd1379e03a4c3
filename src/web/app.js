// Tokenline's operator page. It reads the HTTP API once, then follows GET /events (Server-Sent
// Events, read with fetch so that a bearer token can travel in a header when reads are
// protected) and redraws what changed. No build step: this file is served as it is.

const page = {
  token: sessionStorage.getItem('tokenline-token') || '',
  actors: new Map(),
  machines: [],
  machine: null,
  followed: new Map(),
  deadLettered: -1,
  cards: new Map(),
};

const $ = (id) => document.getElementById(id);

document.addEventListener('DOMContentLoaded', () => {
  $('token').value = page.token;
  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    // Kept for this tab only; the page starts again so that reads and the stream carry it.
    sessionStorage.setItem('tokenline-token', $('token').value.trim());
    location.reload();
  });
  $('actor-select').addEventListener('change', () => {
    page.followed.set(page.machine, $('actor-select').value);
    highlight();
  });
  void start().catch((error) => say(`could not load: ${error.message}`));
});

async function start() {
  const [{ machines }, { actors }] = await Promise.all([api('/machines'), api('/actors')]);
  page.machines = machines;
  replaceActors(actors);
  renderMachineTabs();
  await chooseMachine(machines[0] ? machines[0].name : null);
  void refreshDeadLetters();
  void pollReadiness();
  void followEvents();
  // Actors that stopped without a last snapshot (a revoked partition) leave on the next look.
  setInterval(
    () =>
      api('/actors').then(
        ({ actors }) => replaceActors(actors),
        () => {},
      ),
    15000,
  );
}

// ---- the API --------------------------------------------------------------------------

async function api(path, init = {}) {
  const headers = { ...(init.headers || {}), ...authorization() };
  const response = await fetch(path, { ...init, headers });
  const type = response.headers.get('content-type') || '';
  const body = type.includes('json') ? await response.json() : await response.text();
  if (!response.ok) {
    const message = body?.error ? body.error.message : response.statusText;
    throw new Error(`${response.status} ${message}`);
  }
  return body;
}

function authorization() {
  return page.token ? { authorization: `Bearer ${page.token}` } : {};
}

async function control(id, action) {
  try {
    await api(`/actors/${encodeURIComponent(id)}/${action}`, { method: 'POST' });
    say(`${action}: ${id}`);
  } catch (error) {
    say(`${action} ${id} refused: ${error.message}`);
  }
}

// ---- live events ----------------------------------------------------------------------

async function followEvents() {
  let delay = 500;
  for (;;) {
    try {
      badge('stream', 'live events: connecting', 'warn');
      const response = await fetch('/events?types=snapshot', { headers: authorization() });
      if (!response.ok || !response.body) throw new Error(`status ${response.status}`);
      badge('stream', 'live events: on', 'ok');
      delay = 500;
      await readStream(response.body);
    } catch (error) {
      say(`live events: ${error.message}`);
    }
    badge('stream', 'live events: reconnecting', 'bad');
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 10000);
  }
}

async function readStream(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let cut = buffer.indexOf('\n\n');
    while (cut >= 0) {
      dispatch(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
      cut = buffer.indexOf('\n\n');
    }
  }
}

function dispatch(block) {
  let type = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) type = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
  }
  if (type === 'snapshot') onSnapshot(JSON.parse(data.join('\n')));
  else if (type === 'dropped') say('live events: fell behind, some updates were skipped');
}

function onSnapshot(actor) {
  if (actor.status !== 'active') page.actors.delete(actor.id);
  else page.actors.set(actor.id, actor);
  if (actor.kind === 'partition') {
    renderPartitions();
    const deadLettered = totalDeadLettered();
    if (deadLettered !== page.deadLettered) void refreshDeadLetters();
  } else if (actor.kind === 'supervisor') {
    renderSupervisor();
  } else {
    renderBreakers();
  }
  if (page.followed.get(page.machine) === actor.id) highlight();
  else if (actor.machine === page.machine) renderActorSelect();
}

function replaceActors(actors) {
  page.actors = new Map(actors.map((actor) => [actor.id, actor]));
  renderPartitions();
  renderSupervisor();
  renderBreakers();
  if (page.machine) renderActorSelect();
}

// ---- partitions -----------------------------------------------------------------------

function partitions() {
  return [...page.actors.values()].filter((actor) => actor.kind === 'partition');
}

function renderPartitions() {
  const list = partitions();
  $('partition-count').textContent = `(${list.length})`;
  const grid = $('partitions');
  for (const [id, card] of page.cards) {
    if (!page.actors.has(id)) {
      card.remove();
      page.cards.delete(id);
    }
  }
  for (const actor of list) {
    let card = page.cards.get(actor.id);
    if (!card) {
      card = partitionCard(actor.id);
      page.cards.set(actor.id, card);
      grid.append(card);
    }
    fillCard(card, actor);
  }
  if (list.length === 0) grid.dataset.empty = 'no partition assigned to this member yet';
  else delete grid.dataset.empty;
}

function partitionCard(id) {
  const card = document.createElement('article');
  card.className = 'card';
  card.dataset.actor = id;
  card.tabIndex = 0;
  card.innerHTML = `
    <header><strong class="name"></strong><span class="pill state"></span></header>
    <dl class="facts">
      <dt>lag</dt><dd class="lag"></dd>
      <dt>in flight</dt><dd class="in-flight"></dd>
      <dt>committed</dt><dd class="committed"></dd>
      <dt>commit</dt><dd class="commit"></dd>
      <dt>restarts</dt><dd class="restarts"></dd>
    </dl>
    <p class="paused"></p>
    <p class="error"></p>
    <div class="actions"><button data-do="pause">Pause</button><button data-do="resume">Resume</button></div>`;
  card.addEventListener('click', (event) => {
    const action = event.target.dataset?.do;
    if (action) {
      event.stopPropagation();
      void control(id, action);
      return;
    }
    follow('partition', id);
  });
  return card;
}

function fillCard(card, actor) {
  const c = actor.context;
  const intake = leafUnder(actor.activeStates, 'running.intake') || topState(actor);
  card.querySelector('.name').textContent = `${c.topic} / ${c.partition}`;
  card.querySelector('.name').title = actor.id;
  const pill = card.querySelector('.state');
  pill.textContent = intake;
  pill.dataset.state = intake;
  card.querySelector('.lag').textContent = c.lag === null ? '—' : String(c.lag);
  card.querySelector('.in-flight').textContent = `${c.inFlight} / ${c.window}`;
  card.querySelector('.committed').textContent = c.committedOffset ?? '—';
  card.querySelector('.commit').textContent =
    leafUnder(actor.activeStates, 'running.commit') || '—';
  card.querySelector('.restarts').textContent = String(c.restarts);
  card.querySelector('.paused').textContent = c.paused ? `paused by ${c.pausedBy}` : '';
  card.querySelector('.error').textContent = c.lastError
    ? `${c.lastError.code}: ${c.lastError.message}`
    : '';
  card.classList.toggle('paused', Boolean(c.paused));
  card.classList.toggle('followed', page.followed.get('partition') === actor.id);
  for (const button of card.querySelectorAll('button')) {
    button.disabled = !page.token;
    button.title = page.token ? '' : 'enter the bearer token above to use controls';
  }
}

function leafUnder(paths, prefix) {
  const leaf = paths.filter((p) => p.startsWith(`${prefix}.`)).pop();
  return leaf ? leaf.slice(prefix.length + 1) : '';
}

function topState(actor) {
  return typeof actor.state === 'string' ? actor.state : Object.keys(actor.state || {})[0] || '';
}

function totalDeadLettered() {
  return partitions().reduce((sum, a) => sum + (a.context.stats?.deadLettered ?? 0), 0);
}

// ---- supervisor, breakers, dead letters, readiness ------------------------------------

function renderSupervisor() {
  const actor = page.actors.get('supervisor');
  const list = $('supervisor');
  list.replaceChildren();
  if (!actor) return;
  const c = actor.context;
  const restarts = Object.values(c.restarts || {}).reduce((a, b) => a + b, 0);
  facts(list, [
    ['state', topState(actor)],
    ['owned', String((c.owned || []).length)],
    ['draining', (c.draining || []).join(', ') || '—'],
    ['restarts', String(restarts)],
    ['failure', c.failure ? `${c.failure.code}: ${c.failure.message}` : '—'],
  ]);
}

function renderBreakers() {
  const known = new Set(['supervisor', 'partition', 'record']);
  const list = $('breakers');
  list.replaceChildren();
  const breakers = [...page.actors.values()].filter((actor) => !known.has(actor.kind));
  for (const actor of breakers) {
    const item = document.createElement('li');
    item.textContent = `${actor.id}: `;
    const pill = document.createElement('span');
    pill.className = 'pill';
    pill.textContent = topState(actor);
    pill.dataset.state = topState(actor);
    item.append(pill);
    list.append(item);
  }
  if (breakers.length === 0) list.innerHTML = '<li class="hint">no breakers reported</li>';
}

async function refreshDeadLetters() {
  page.deadLettered = totalDeadLettered();
  try {
    const counts = await api('/dead-letters');
    $('dlq-topic').textContent = counts.topic ? `(${counts.topic})` : '';
    const body = $('dead-letters').querySelector('tbody');
    body.replaceChildren();
    for (const [reason, count] of Object.entries(counts.byReason)) row(body, reason, count);
    row(body, 'total', counts.total).classList.add('total');
  } catch (error) {
    say(`dead letters: ${error.message}`);
  }
}

async function pollReadiness() {
  for (;;) {
    const response = await fetch('/health/ready').catch(() => null);
    const body = response ? await response.json().catch(() => null) : null;
    const failing = body
      ? Object.entries(body.checks)
          .filter(([, check]) => !check.ok)
          .map(([name, check]) => `${name}: ${check.detail || 'failing'}`)
      : ['no answer'];
    const ready = Boolean(body?.ready);
    badge('ready', ready ? 'ready' : 'not ready', ready ? 'ok' : 'bad');
    $('ready').title = ready ? 'GET /health/ready' : failing.join('\n');
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
}

// ---- machines and the highlighted actor -----------------------------------------------

function renderMachineTabs() {
  const tabs = $('machine-tabs');
  tabs.replaceChildren();
  for (const machine of page.machines) {
    const tab = document.createElement('button');
    tab.type = 'button';
    tab.setAttribute('role', 'tab');
    tab.textContent = machine.name;
    tab.dataset.machine = machine.name;
    tab.addEventListener('click', () => void chooseMachine(machine.name));
    tabs.append(tab);
  }
}

async function chooseMachine(name) {
  page.machine = name;
  for (const tab of $('machine-tabs').children) {
    tab.setAttribute('aria-selected', String(tab.dataset.machine === name));
  }
  const machine = page.machines.find((m) => m.name === name);
  if (!machine) return;
  $('machine-source').textContent = `${machine.source.path} · export ${machine.source.export} · `;
  const link = document.createElement('a');
  link.href = machine.links.mermaid;
  link.textContent = 'Mermaid';
  $('machine-source').append(link);
  try {
    const svg = await api(machine.links.svg);
    if (page.machine !== name) return;
    $('diagram').innerHTML = svg.slice(svg.indexOf('<svg'));
  } catch (error) {
    $('diagram').textContent = `diagram unavailable: ${error.message}`;
  }
  renderActorSelect();
}

function follow(machine, id) {
  page.followed.set(machine, id);
  if (page.machine !== machine) void chooseMachine(machine);
  else renderActorSelect();
  renderPartitions();
}

function renderActorSelect() {
  const select = $('actor-select');
  const actors = [...page.actors.values()].filter((actor) => actor.machine === page.machine);
  let chosen = page.followed.get(page.machine);
  if (!actors.some((actor) => actor.id === chosen)) chosen = actors[0] ? actors[0].id : '';
  page.followed.set(page.machine, chosen);
  const ids = actors.map((actor) => actor.id);
  if ([...select.options].map((o) => o.value).join() !== ids.join()) {
    select.replaceChildren(...ids.map((id) => new Option(id, id)));
  }
  select.value = chosen;
  select.disabled = ids.length === 0;
  highlight();
}

function highlight() {
  const diagram = $('diagram');
  for (const node of diagram.querySelectorAll('.active')) node.classList.remove('active');
  const actor = page.actors.get(page.followed.get(page.machine));
  if (!actor) {
    $('active-states').textContent =
      page.machine === 'record'
        ? 'record actors live inside partitions: GET /actors/<partition id> lists them'
        : 'no running actor of this machine';
    return;
  }
  for (const path of actor.activeStates) {
    const node = diagram.querySelector(`[id="state:${CSS.escape(path)}"]`);
    if (node) node.classList.add('active');
  }
  const leaves = actor.activeStates.filter(
    (path) => !actor.activeStates.some((other) => other.startsWith(`${path}.`)),
  );
  $('active-states').textContent = leaves.join(' · ');
}

// ---- small helpers --------------------------------------------------------------------

function facts(list, pairs) {
  for (const [term, value] of pairs) {
    const dt = document.createElement('dt');
    dt.textContent = term;
    const dd = document.createElement('dd');
    dd.textContent = value;
    list.append(dt, dd);
  }
}

function row(body, label, value) {
  const tr = document.createElement('tr');
  const th = document.createElement('th');
  th.textContent = label;
  const td = document.createElement('td');
  td.textContent = String(value);
  tr.append(th, td);
  body.append(tr);
  return tr;
}

function badge(id, text, level) {
  const element = $(id);
  element.textContent = text;
  element.dataset.level = level;
}

function say(text) {
  $('message').textContent = `${new Date().toLocaleTimeString()} ${text}`;
}
