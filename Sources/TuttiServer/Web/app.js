// Tutti's web page: every room on one page, live. It talks to the server only through the
// documented JSON-RPC API over the WebSocket and follows its notifications (no polling).
import { Connection, tokenStore } from './rpc.js';

const state = {
  server: null,
  routines: [],
  features: { routines: false, bluetooth: false, calibration: false },
  history: new Map(), // speaker ID -> [{ t, us }] of its clock error, the last few minutes
  capabilities: new Map(), // speaker ID -> its entry of Server.GetCapabilities
  calibration: { busy: false, message: '', run: null, trims: false },
  connected: false,
};
const historySeconds = 300;

const $ = (id) => document.getElementById(id);

// MARK: DOM helpers

function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else if (value === true) element.setAttribute(key, '');
    else element.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

const svgNS = 'http://www.w3.org/2000/svg';
function s(tag, attributes = {}) {
  const element = document.createElementNS(svgNS, tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  return element;
}

let toastTimer = null;
function toast(text, kind = 'error') {
  const box = $('toast');
  box.textContent = text;
  box.className = kind === 'info' ? 'info' : '';
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 6000);
}

// Every call from a control goes through here: errors are shown, never thrown. The server
// tells other clients of a change, not the one that made it, so after a change the page reads
// the state again.
const readOnly = new Set(['Server.GetStatus', 'Routine.List', 'Server.Subscribe']);
async function act(method, params) {
  let result;
  try {
    result = await connection.call(method, params);
  } catch (error) {
    toast(error.message);
    return undefined;
  }
  if (!readOnly.has(method)) await refresh(method.startsWith('Routine.') || method === 'Command.Run');
  return result;
}

async function refresh(routinesToo) {
  try {
    state.server = (await connection.call('Server.GetStatus')).server;
    if (routinesToo && state.features.routines) state.routines = (await connection.call('Routine.List')).routines;
  } catch (error) {
    toast(error.message);
  }
  scheduleRender();
}

// MARK: The model, as the API shows it

const groups = () => (state.server ? state.server.groups : []);
const clients = () => groups().flatMap((group) => group.clients);
const streams = () => (state.server ? state.server.streams : []);
const pairs = () => (state.server ? state.server.pairs || [] : []);
const clientName = (client) => client.config.name || client.host.name || client.id;
const groupName = (group) => group.name || group.clients.map(clientName).join(' + ');
const findClient = (id) => clients().find((client) => client.id === id);
const findGroup = (id) => groups().find((group) => group.id === id);

function patchClient(id, change) {
  const client = findClient(id);
  if (client) change(client);
}

function patchGroup(id, change) {
  const group = findGroup(id);
  if (group) change(group);
}

function recordSync(id, sync) {
  if (!sync) return;
  const now = Date.now() / 1000;
  const points = state.history.get(id) || [];
  points.push({ t: now, us: sync.clockErrorUs });
  while (points.length && points[0].t < now - historySeconds) points.shift();
  state.history.set(id, points);
}

// What a speaker is doing, and if it is silent, why.
function speakerState(client, group) {
  const stream = streams().find((item) => item.id === group.stream_id);
  if (!client.connected) return ['offline', 'bad', 'not connected to the server'];
  if (group.muted) return ['muted', 'warn', 'its group is muted'];
  if (client.config.volume.muted) return ['muted', 'warn', 'the speaker is muted'];
  if (stream && stream.status !== 'playing') return ['silent', 'warn', `stream ${stream.id} has no audio`];
  if (client.config.volume.percent === 0) return ['silent', 'warn', 'volume 0'];
  if (client.sync && !client.sync.locked) return ['syncing', 'warn', 'locking to the server clock'];
  return ['playing', 'good', `plays ${group.stream_id}`];
}

// MARK: Rendering

let renderQueued = false;
let dragging = false;
let editingRoutine = false;
// A slider held by the pointer is not redrawn under it; letting go anywhere ends that.
document.addEventListener('pointerup', () => { dragging = false; });
document.addEventListener('pointercancel', () => { dragging = false; });

function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    if (dragging) {
      scheduleRender();
      return;
    }
    render();
  });
}

// Re-renders the live parts, keeping keyboard focus on the control that had it.
function render() {
  const active = document.activeElement;
  const focusKey = active && active.dataset ? active.dataset.key : undefined;
  $('connection').textContent = state.connected ? 'connected' : 'reconnecting…';
  $('connection').className = `chip ${state.connected ? 'good' : 'bad'}`;
  if (!state.server) return;
  renderParty();
  renderGroups();
  if (!$('new-group').contains(active)) renderNewGroupSpeakers();
  renderPairs();
  renderStreams();
  renderRoutines();
  renderUnavailable('bluetooth', state.features.bluetooth, 'Bluetooth (scan, pair, connect, forget)');
  renderBluetooth();
  renderUnavailable('calibration', state.features.calibration, 'Calibration with a microphone');
  renderCalibration();
  renderHosts();
  if (focusKey) {
    const again = document.querySelector(`[data-key="${CSS.escape(focusKey)}"]`);
    if (again && again !== document.activeElement) again.focus();
  }
}

function renderParty() {
  const party = state.server.party || { on: false };
  const button = h('button', {
    type: 'button', 'aria-pressed': party.on ? 'true' : 'false', dataset: { key: 'party' },
    onclick: () => act('Server.SetPartyMode', { on: !party.on }),
  }, party.on ? 'Party mode: on' : 'Party mode: off');
  $('party').replaceChildren(button);
}

// A menu that acts when a choice is made with the pointer, or confirmed from the keyboard
// (Enter, or leaving the menu) — not on every arrow key that passes over a choice.
function menu(attributes, options, commit) {
  let keyboard = false;
  const select = h('select', {
    ...attributes,
    onpointerdown: () => { keyboard = false; },
    onkeydown: (event) => {
      if (event.key === 'Enter') {
        keyboard = false;
        commit(event.target.value);
      } else if (event.key.startsWith('Arrow') || event.key === 'Home' || event.key === 'End') {
        keyboard = true;
      }
    },
    onchange: (event) => { if (!keyboard) commit(event.target.value); },
    onblur: (event) => {
      if (keyboard && event.target.value !== initial) commit(event.target.value);
      keyboard = false;
    },
  }, options);
  const initial = select.value;
  return select;
}

function slider(key, label, value, min, max, onCommit, step = 1) {
  const output = h('span', { class: 'value' }, String(value));
  const input = h('input', {
    type: 'range', min, max, step, value, 'aria-label': label, dataset: { key },
    onpointerdown: () => { dragging = true; },
    oninput: (event) => { output.textContent = event.target.value; },
    onchange: (event) => { dragging = false; onCommit(Number(event.target.value)); },
    onblur: () => { dragging = false; },
  });
  return [input, output];
}

function renderGroups() {
  const container = $('groups');
  const cards = groups().map((group) => {
    const name = groupName(group);
    const volumes = group.clients.map((client) => client.config.volume.percent);
    const mean = volumes.length ? Math.round(volumes.reduce((a, b) => a + b, 0) / volumes.length) : 0;
    const card = h('article', {
      class: 'group', dataset: { group: group.id }, 'aria-label': `Group ${name}`,
      ondragover: (event) => { event.preventDefault(); card.classList.add('drop'); },
      ondragleave: () => card.classList.remove('drop'),
      ondrop: (event) => {
        event.preventDefault();
        card.classList.remove('drop');
        const id = event.dataTransfer.getData('text/plain');
        if (id) moveSpeaker(id, group.id);
      },
    },
      h('header', {},
        h('h3', {}, name),
        menu({ 'aria-label': `Stream of ${name}`, dataset: { key: `stream-${group.id}` } },
          streams().map((stream) => h('option', { value: stream.id, selected: stream.id === group.stream_id }, stream.id)),
          (value) => { if (value !== group.stream_id) act('Group.SetStream', { id: group.id, stream_id: value }); }),
        h('button', {
          type: 'button', 'aria-pressed': group.muted ? 'true' : 'false', dataset: { key: `gmute-${group.id}` },
          onclick: () => act('Group.SetMute', { id: group.id, mute: !group.muted }),
        }, group.muted ? 'Unmute' : 'Mute'),
        group.clients.length > 1 ? h('button', {
          type: 'button', dataset: { key: `dissolve-${group.id}` },
          onclick: () => act('Group.Dissolve', { id: group.id }),
        }, 'Dissolve') : null,
        h('button', {
          type: 'button', dataset: { key: `rename-${group.id}` },
          onclick: () => {
            const next = prompt('Name of this group', group.name);
            if (next !== null) act('Group.SetName', { id: group.id, name: next });
          },
        }, 'Rename')),
      // A group of one speaker has that speaker's volume: no second slider.
      group.clients.length > 1 ? h('div', { class: 'controls' },
        h('span', {}, 'Group volume'),
        ...slider(`gvol-${group.id}`, `Volume of ${name}`, mean, 0, 100, (percent) => act('Group.SetVolume', { id: group.id, percent }))) : null,
      h('ul', { class: 'speakers' }, group.clients.map((client) => renderSpeaker(client, group))));
    return card;
  });
  container.replaceChildren(...cards);
}

function renderSpeaker(client, group) {
  const name = clientName(client);
  const [label, kind, why] = speakerState(client, group);
  const pair = pairs().find((item) => item.left === client.id || item.right === client.id);
  const others = groups().filter((other) => other.id !== group.id);
  const muted = client.config.volume.muted;
  return h('li', {
    class: 'speaker', draggable: 'true', dataset: { speaker: client.id },
    ondragstart: (event) => event.dataTransfer.setData('text/plain', client.id),
  },
    h('div', { class: 'line' },
      h('span', { class: 'name' }, name),
      pair ? h('span', { class: 'chip' }, `${pair.name} · ${client.config.channel}`) : null,
      h('span', { class: `chip ${kind}`, title: why, 'aria-label': `${label}: ${why}` }, `${label} — ${why}`)),
    h('div', { class: 'volume' },
      h('span', { class: 'label' }, 'Volume'),
      ...slider(`vol-${client.id}`, `Volume of ${name}`, client.config.volume.percent, 0, 100,
        (percent) => act('Client.SetVolume', { id: client.id, volume: { percent } })),
      h('button', {
        type: 'button', 'aria-pressed': muted ? 'true' : 'false', 'aria-label': `${muted ? 'Unmute' : 'Mute'} ${name}`,
        dataset: { key: `mute-${client.id}` },
        onclick: () => act('Client.SetVolume', { id: client.id, volume: { muted: !muted } }),
      }, muted ? 'Unmute' : 'Mute')),
    h('div', { class: 'line' },
      h('label', {}, 'Move to ',
        menu({ 'aria-label': `Move ${name} to`, dataset: { key: `move-${client.id}` } }, [
          h('option', { value: '', selected: true }, '—'),
          ...others.map((other) => h('option', { value: other.id }, groupName(other))),
          group.clients.length > 1 ? h('option', { value: 'new' }, 'a group of its own') : null,
        ], (value) => moveSpeaker(client.id, value))),
      renderSync(client)),
    h('details', {},
      h('summary', { dataset: { key: `more-${client.id}` } }, `Latency ${client.config.latency} ms`),
      h('div', {},
        h('span', {}, 'Latency (ms)'),
        ...latencyControls(client, name))));
}

function latencyControls(client, name) {
  const commit = (value) => act('Client.SetLatency', { id: client.id, latency: value });
  const range = h('input', {
    type: 'range', min: -500, max: 500, step: 1, value: client.config.latency, 'aria-label': `Latency of ${name}, coarse`,
    dataset: { key: `lat-${client.id}` },
    onpointerdown: () => { dragging = true; },
    oninput: (event) => { number.value = event.target.value; },
    onchange: (event) => { dragging = false; commit(Number(event.target.value)); },
    onblur: () => { dragging = false; },
  });
  const number = h('input', {
    type: 'number', min: -10000, max: 10000, step: 'any', value: client.config.latency, 'aria-label': `Latency of ${name} in ms`,
    dataset: { key: `latn-${client.id}` },
    onchange: (event) => commit(Number(event.target.value)),
  });
  return [range, number];
}

function renderSync(client) {
  if (!client.sync) {
    return h('span', { class: 'sync muted', dataset: { sync: client.id } }, client.connected ? 'no sync reports (a snapclient)' : '');
  }
  const sync = client.sync;
  const points = state.history.get(client.id) || [];
  const svg = s('svg', { viewBox: `0 0 ${historySeconds} 100`, preserveAspectRatio: 'none', role: 'img' });
  const scale = Math.max(100, ...points.map((point) => Math.abs(point.us)));
  svg.setAttribute('aria-label', `Clock error of the last ${historySeconds / 60} minutes, within ±${Math.round(scale)} µs`);
  svg.append(s('line', { x1: 0, x2: historySeconds, y1: 50, y2: 50 }));
  if (points.length > 1) {
    const now = Date.now() / 1000;
    const coordinates = points.map((point) => `${(historySeconds - (now - point.t)).toFixed(1)},${(50 - (point.us / scale) * 48).toFixed(1)}`);
    svg.append(s('polyline', { points: coordinates.join(' ') }));
  }
  const fixed = (value, digits = 0) => (typeof value === 'number' ? value.toFixed(digits) : '?');
  return h('span', { class: 'sync', dataset: { sync: client.id } },
    svg,
    h('span', {}, `error ${fixed(sync.clockErrorUs)} µs · rate ${fixed(sync.ratePpm, 1)} ppm · buffer ${fixed(sync.bufferMs)} ms`
      + `${sync.outputDelayMs >= 1 ? ` · output delay ${fixed(sync.outputDelayMs)} ms` : ''} · underruns ${sync.underruns}`
      + `${sync.timeChannel === 'stream' ? ' · clock sync in the stream' : ''}`));
}

function updateSync(id) {
  const client = findClient(id);
  const shown = document.querySelector(`[data-sync="${CSS.escape(id)}"]`);
  if (client && shown) shown.replaceWith(renderSync(client));
}

async function moveSpeaker(id, target) {
  if (!target) return;
  const group = groups().find((item) => item.clients.some((client) => client.id === id));
  if (target === 'new') {
    await act('Group.Create', { name: '', clients: [id] });
    return;
  }
  const destination = findGroup(target);
  if (!destination || (group && group.id === destination.id)) return;
  await act('Group.SetClients', { id: destination.id, clients: [...destination.clients.map((client) => client.id), id] });
}

function renderNewGroupSpeakers() {
  const boxes = clients().map((client) => h('label', {},
    h('input', { type: 'checkbox', value: client.id, name: 'speaker' }), clientName(client)));
  $('new-group-speakers').replaceChildren(h('legend', {}, 'Speakers'), ...boxes);
}

function renderPairs() {
  const items = pairs().map((pair) => h('li', {},
    `${pair.name}: ${clientName(findClient(pair.left) || { config: {}, host: {}, id: pair.left })} (left) + `
      + `${clientName(findClient(pair.right) || { config: {}, host: {}, id: pair.right })} (right) `,
    h('button', { type: 'button', dataset: { key: `split-${pair.id}` }, onclick: () => act('Pair.Delete', { id: pair.id }) }, 'Split')));
  $('pairs').replaceChildren(...(items.length ? items : [h('li', { class: 'muted' }, 'No stereo pairs.')]));
  if (!$('pair-form').contains(document.activeElement)) {
    const options = () => clients().filter((client) => !client.pair).map((client) => h('option', { value: client.id }, clientName(client)));
    $('pair-left').replaceChildren(...options());
    $('pair-right').replaceChildren(...options());
  }
}

function renderStreams() {
  const playing = (stream) => groups().filter((group) => group.stream_id === stream.id).map(groupName);
  $('streams').replaceChildren(
    h('tr', {}, h('th', {}, 'Stream'), h('th', {}, 'Status'), h('th', {}, 'Playing in'), h('th', {}, 'Source'), h('th', {}, '')),
    ...streams().map((stream) => h('tr', {},
      h('td', {}, stream.id),
      h('td', {}, h('span', { class: `chip ${stream.status === 'playing' ? 'good' : 'warn'}` }, stream.status)),
      h('td', {}, playing(stream).join(', ') || '—'),
      h('td', {}, h('code', {}, stream.uri.raw)),
      h('td', {}, h('button', {
        type: 'button', dataset: { key: `rmstream-${stream.id}` },
        onclick: () => act('Stream.RemoveStream', { id: stream.id }),
      }, 'Remove')))));
}

function renderRoutines() {
  const box = $('routines');
  if (!state.features.routines) {
    box.replaceChildren(h('p', { class: 'muted' }, 'Routines are not available on this server.'));
    return;
  }
  if (editingRoutine) return;
  const describeTrigger = (trigger) => (trigger.at
    ? `at ${trigger.at}${trigger.days ? ` ${trigger.days.join(',')}` : ''}`
    : `on ${trigger.event}${trigger.subject ? ` ${trigger.subject}` : ''}`);
  const items = state.routines.map((routine) => h('div', { class: 'routine', dataset: { routine: routine.id } },
    h('div', { class: 'line' },
      h('strong', {}, routine.name), routine.enabled ? null : h('span', { class: 'chip' }, 'disabled'),
      routine.aliases.length ? h('span', { class: 'muted' }, `also “${routine.aliases.join('”, “')}”`) : null,
      h('span', { class: 'muted' }, ['by name', ...routine.triggers.map(describeTrigger)].join(' · '))),
    h('ol', {}, (routine.sentences || []).map((sentence) => h('li', {}, sentence))),
    h('div', { class: 'row' },
      h('button', { type: 'button', dataset: { key: `run-${routine.id}` }, onclick: () => runRoutine(routine) }, 'Run'),
      h('button', { type: 'button', dataset: { key: `edit-${routine.id}` }, onclick: () => editRoutine(routine) }, 'Edit'),
      h('button', {
        type: 'button', dataset: { key: `delete-${routine.id}` },
        onclick: () => { if (confirm(`Delete the routine ${routine.name}?`)) act('Routine.Delete', { id: routine.id }); },
      }, 'Delete'))));
  box.replaceChildren(
    ...(items.length ? items : [h('p', { class: 'muted' }, 'No routines yet.')]),
    h('button', { type: 'button', dataset: { key: 'new-routine' }, onclick: () => editRoutine(null) }, 'New routine'));
}

async function runRoutine(routine) {
  const result = await act('Routine.Run', { id: routine.id });
  if (result) toast(`${routine.name}: ${result.done.join('; ') || 'done'}`, 'info');
}

// A routine's form: actions as sentences, one per line; triggers as "at 07:00 weekdays" or
// "on speaker_connected patio", one per line.
function editRoutine(routine) {
  editingRoutine = true;
  const box = $('routines');
  const name = h('input', { type: 'text', value: routine ? routine.name : '', required: true, 'aria-label': 'Routine name' });
  const aliases = h('input', { type: 'text', value: routine ? routine.aliases.join(', ') : '', 'aria-label': 'Aliases, separated by commas' });
  const actions = h('textarea', { 'aria-label': 'Actions, one sentence per line' });
  actions.value = routine ? (routine.sentences || []).join('\n') : '';
  const triggers = h('textarea', { 'aria-label': 'Triggers, one per line' });
  triggers.value = routine
    ? routine.triggers.map((t) => (t.at ? `at ${t.at}${t.days ? ` ${t.days.join(',')}` : ''}` : `on ${t.event}${t.subject ? ` ${t.subject}` : ''}`)).join('\n')
    : '';
  const form = h('form', {
    class: 'routine',
    onsubmit: async (event) => {
      event.preventDefault();
      const params = {
        name: name.value,
        aliases: aliases.value.split(',').map((alias) => alias.trim()).filter(Boolean),
        actions: actions.value.split('\n').map((line) => line.trim()).filter(Boolean),
        triggers: parseTriggers(triggers.value),
      };
      if (routine) params.id = routine.id;
      const result = await act(routine ? 'Routine.Update' : 'Routine.Create', params);
      if (result) {
        editingRoutine = false;
        renderRoutines();
      }
    },
  },
    h('label', {}, 'Name ', name),
    h('label', {}, 'Also runs on ', aliases),
    h('label', {}, 'Actions (one sentence per line, e.g. “play jazz in the kitchen”, “wait 5 seconds”)', actions),
    h('label', {}, 'Triggers (e.g. “at 07:00 weekdays”, “on speaker_connected patio”)', triggers),
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'primary' }, 'Save'),
      h('button', { type: 'button', onclick: () => { editingRoutine = false; renderRoutines(); } }, 'Cancel')));
  box.replaceChildren(form);
  name.focus();
}

function parseTriggers(text) {
  return text.split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
    const words = line.split(/\s+/);
    if (words[0] === 'at') {
      const trigger = { at: words[1] };
      if (words[2]) trigger.days = words.slice(2).join(',').split(',').filter(Boolean);
      return trigger;
    }
    const trigger = { event: words[words[0] === 'on' ? 1 : 0] };
    const subject = words.slice(words[0] === 'on' ? 2 : 1).join(' ');
    if (subject) trigger.subject = subject;
    return trigger;
  });
}

function renderUnavailable(id, available, what) {
  if (available) return;
  $(id).replaceChildren(h('p', { class: 'muted' }, `${what}: not available on this server.`));
}

// Bluetooth speakers of the speaker hosts started with --bluetooth (Bluetooth.*).
async function loadBluetooth(method = 'Bluetooth.GetStatus', params = {}) {
  if (!state.features.bluetooth) return;
  state.bluetoothBusy = method === 'Bluetooth.GetStatus' ? state.bluetoothBusy : method;
  scheduleRender();
  try {
    const result = await connection.call(method, params);
    if (method !== 'Bluetooth.GetStatus') {
      state.bluetooth = await connection.call('Bluetooth.GetStatus');
      if (method === 'Bluetooth.Scan') state.bluetooth.devices = result.devices;
    } else {
      state.bluetooth = result;
    }
    state.bluetoothError = null;
  } catch (error) {
    if (method === 'Bluetooth.GetStatus') state.bluetoothError = error.message;
    else toast(error.message);
  }
  state.bluetoothBusy = null;
  await refresh(false);
}

function renderBluetooth() {
  if (!state.features.bluetooth) return;
  const box = $('bluetooth');
  const busy = state.bluetoothBusy;
  const scan = h('button', { type: 'button', disabled: Boolean(busy), onclick: () => loadBluetooth('Bluetooth.Scan', { seconds: 8 }) },
    busy === 'Bluetooth.Scan' ? 'Scanning…' : 'Scan for speakers');
  if (state.bluetoothError) {
    box.replaceChildren(h('p', { class: 'muted' }, state.bluetoothError), scan);
    return;
  }
  const status = state.bluetooth || { adapters: [], devices: [] };
  const adapters = (status.adapters || []).map((adapter) => {
    const receive = !adapter.receive ? [h('span', { class: 'muted' }, ' (cannot receive from phones)')]
      : [' ', h('button', {
        type: 'button', disabled: Boolean(busy), 'aria-pressed': String(Boolean(adapter.receiving)),
        onclick: () => loadBluetooth('Bluetooth.SetReceive', { on: !adapter.receiving, adapter: adapter.name, host: adapter.host }),
      }, adapter.receiving ? 'Stop receiving from phones' : 'Receive from phones')];
    return h('li', {}, `${adapter.hostName || adapter.host}: ${adapter.name} ${adapter.powered ? 'on' : 'off'}, ${adapter.connected.length} of ${adapter.limit} speakers`, ...receive);
  });
  const rows = (status.devices || []).map((device) => {
    const target = { device: device.address, host: device.host };
    const action = (label, method) => h('button', { type: 'button', disabled: Boolean(busy), onclick: () => loadBluetooth(method, target) }, label);
    const actions = device.connected ? [action('Disconnect', 'Bluetooth.Disconnect')]
      : device.paired ? [action('Connect', 'Bluetooth.Connect')] : [action('Pair', 'Bluetooth.Pair')];
    if (device.paired) actions.push(action('Forget', 'Bluetooth.Forget'));
    return h('tr', {},
      h('td', {}, device.name),
      h('td', {}, (device.connected ? 'connected' : device.paired ? 'paired' : 'seen') + (device.phone ? ' (phone: a stream)' : '')),
      h('td', {}, device.codec || '—'),
      h('td', {}, device.reportedDelayMs != null ? `${device.reportedDelayMs.toFixed(1)} ms` : '—'),
      h('td', {}, device.hostName || device.host || '—'),
      h('td', {}, ...actions));
  });
  const failures = (status.failures || []).map((failure) =>
    h('p', { class: 'muted' }, `${failure.hostName}: ${(failure.error.data && failure.error.data.message) || failure.error.message}`));
  box.replaceChildren(
    h('ul', {}, ...adapters),
    rows.length ? h('table', {}, h('thead', {}, h('tr', {}, ...['Speaker', 'State', 'Codec', 'Reported delay', 'Host', ''].map((t) => h('th', {}, t)))), h('tbody', {}, ...rows))
      : h('p', { class: 'muted' }, 'No Bluetooth speakers yet: put one in pairing mode and scan.'),
    ...failures, scan);
}

// Calibration with this device's microphone (Calibration.*): every connected speaker plays its
// test bursts, the page records them and uploads the recording, the server finds each
// speaker's delay relative to the first one heard; applying sets the corrections.
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

function renderCalibration() {
  if (!state.features.calibration) return;
  const calibration = state.calibration;
  const parts = [
    h('p', { class: 'muted' }, 'Put this device where you listen. Each speaker plays short bursts of noise in turn; the page hears them and finds how late each one really sounds.'),
    h('button', { type: 'button', id: 'calibrate', disabled: calibration.busy, onclick: calibrateWithMicrophone },
      calibration.busy ? 'Listening…' : 'Calibrate with this device\'s microphone'),
  ];
  if (calibration.message) parts.push(h('p', { role: 'status' }, calibration.message));
  const run = calibration.run;
  if (run && run.results) {
    const name = (id) => { const client = clients().find((c) => c.id === id); return client ? clientName(client) : id; };
    parts.push(h('div', { class: 'scroll' }, h('table', { id: 'calibration-results' },
      h('thead', {}, h('tr', {}, ...['Speaker', 'Result', 'Delay', 'Correction', 'Confidence', 'Level trim'].map((t) => h('th', {}, t)))),
      h('tbody', {}, ...run.results.map((item) => h('tr', { 'data-speaker': item.id },
        h('td', {}, name(item.id)),
        h('td', {}, item.status === 'measured' ? 'measured' : item.status === 'too_quiet' ? 'not heard' : 'unsure'),
        h('td', {}, item.delayMs != null ? `${item.delayMs.toFixed(1)} ms` : '—'),
        h('td', {}, item.newLatencyMs != null ? `${item.latencyMs} → ${item.newLatencyMs} ms` : '—'),
        h('td', {}, `${Math.round(item.confidenceDB)} dB`),
        h('td', {}, item.volumeTrimDB != null ? `${item.volumeTrimDB.toFixed(1)} dB` : '—')))))));
    if (run.state !== 'applied' && run.results.some((item) => item.newLatencyMs != null)) {
      const trims = h('input', { type: 'checkbox', id: 'calibration-trims', checked: calibration.trims,
        onchange: (event) => { calibration.trims = event.target.checked; } });
      parts.push(h('label', {}, trims, ' Also make them equally loud (level trims under each one\'s volume)'));
      parts.push(h('button', { type: 'button', onclick: async () => {
        const answer = await act('Calibration.Apply', { id: run.id, trims: calibration.trims });
        if (answer) {
          run.state = 'applied';
          const skipped = (answer.applied || []).filter((item) => item.trimNotApplied).map((item) => item.trimNotApplied);
          calibration.message = ['Applied.', ...skipped].join(' ');
          scheduleRender();
        }
      } }, 'Apply the corrections'));
    }
  }
  $('calibration').replaceChildren(...parts);
}

async function calibrateWithMicrophone() {
  const calibration = state.calibration;
  Object.assign(calibration, { busy: true, message: 'Asking for the microphone…', run: null });
  scheduleRender();
  let stream = null;
  let context = null;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    context = new AudioContext();
    const source = context.createMediaStreamSource(stream);
    const processor = context.createScriptProcessor(4096, 1, 1);
    const chunks = [];
    let startedAt = null;
    processor.onaudioprocess = (event) => {
      const data = event.inputBuffer.getChannelData(0);
      if (startedAt === null) startedAt = performance.now() - (data.length / context.sampleRate) * 1000;
      chunks.push(new Float32Array(data));
    };
    source.connect(processor);
    processor.connect(context.destination);
    for (let waited = 0; startedAt === null && waited < 5000; waited += 50) await pause(50);
    if (startedAt === null) throw new Error('the microphone gives no sound');
    const speakers = clients().filter((client) => client.connected).map((client) => client.id);
    const sent = performance.now();
    const run = await connection.call('Calibration.Start', { speakers, rounds: 2, uncertaintyMs: 300 });
    const runStart = (sent + performance.now()) / 2 + run.startsInMs;
    calibration.message = `Listening to ${speakers.length} speakers for ${Math.round(run.durationMs / 1000)} s…`;
    scheduleRender();
    await pause(runStart + run.durationMs + 1000 - performance.now());
    processor.disconnect();
    source.disconnect();
    const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    const pcm = new Int16Array(total);
    let at = 0;
    for (const chunk of chunks) for (const value of chunk) pcm[at++] = Math.max(-32768, Math.min(32767, Math.round(value * 32767)));
    calibration.message = 'Working it out…';
    scheduleRender();
    for (let start = 0; start < pcm.length; start += 20000) {
      const bytes = new Uint8Array(pcm.buffer, start * 2, Math.min(20000, pcm.length - start) * 2);
      let binary = '';
      for (const byte of bytes) binary += String.fromCharCode(byte);
      await connection.call('Calibration.Deliver', { id: run.id, samples: btoa(binary), rate: context.sampleRate });
    }
    const analyzed = await connection.call('Calibration.Analyze', { id: run.id, startOffsetMs: startedAt - runStart });
    calibration.run = analyzed.run;
    const heard = analyzed.run.results.filter((item) => item.status === 'measured').length;
    calibration.message = heard ? `Heard ${heard} of ${speakers.length} speakers.` : 'No speaker was heard clearly: turn them up, or bring the device closer.';
  } catch (error) {
    calibration.message = error.message || String(error);
  } finally {
    if (stream) stream.getTracks().forEach((track) => track.stop());
    if (context) context.close();
    calibration.busy = false;
    scheduleRender();
  }
}

// The capability table (Server.GetCapabilities): asked again when a speaker comes or goes.
async function loadCapabilities() {
  try {
    const table = await connection.call('Server.GetCapabilities');
    state.capabilities = new Map(table.speakers.map((entry) => [entry.id, entry]));
  } catch (error) {
    if (error.code !== -32601) toast(error.message);
    return;
  }
  scheduleRender();
}

function bluetoothSummary(bluetooth) {
  if (!bluetooth) return '—';
  if (bluetooth.speaker) return `speaker ${bluetooth.speaker.address}${bluetooth.speaker.codec ? `, ${bluetooth.speaker.codec}` : ''}`;
  if (bluetooth.available === false) return bluetooth.code === 'not-managed' ? 'not managed' : bluetooth.reason;
  if (!bluetooth.adapters.length) return 'no adapter';
  return bluetooth.adapters.map((adapter) => {
    const roles = [adapter.send && 'send', adapter.receive && 'receive'].filter(Boolean).join('+') || 'no audio';
    return `${adapter.name}${adapter.bluez ? ` BlueZ ${adapter.bluez}` : ''} ${roles} ${adapter.connected.length}/${adapter.limit}`;
  }).join('; ');
}

function deviceList(devices) {
  if (!devices || !devices.length) return '—';
  return h('details', {}, h('summary', {}, String(devices.length)),
    h('ul', {}, ...devices.map((device) => h('li', { title: device.description }, device.uri))));
}

function renderHosts() {
  const rows = clients().map((client) => {
    const entry = state.capabilities.get(client.id);
    const table = entry && entry.capabilities;
    const why = entry && entry.unavailable ? entry.unavailable.message : '';
    return h('tr', { 'data-speaker': client.id },
      h('td', {}, clientName(client)),
      h('td', {}, client.host.name || '—'),
      h('td', {}, [client.host.os, client.host.arch].filter(Boolean).join(' / ') || '—'),
      h('td', {}, `${client.snapclient.name} ${client.snapclient.version}`.trim()),
      h('td', {}, table ? table.output : '—'),
      h('td', {}, table ? deviceList(table.outputs) : '—'),
      h('td', {}, table ? deviceList(table.inputs.filter((device) => !device.monitor)) : '—'),
      h('td', {}, table ? bluetoothSummary(table.bluetooth) : why || '—'),
      h('td', {}, client.connected ? client.host.ip || '—' : 'offline'));
  });
  $('hosts').replaceChildren(
    h('tr', {}, ...['Speaker', 'Host', 'OS / arch', 'Software', 'Output', 'Outputs', 'Inputs', 'Bluetooth', 'Address'].map((title) => h('th', {}, title))),
    ...rows);
}

// MARK: Forms that stay put

function wireForms() {
  $('say-form').addEventListener('submit', (event) => {
    event.preventDefault();
    say(false);
  });
  $('say-dry').addEventListener('click', () => say(true));
  $('new-group-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = [...$('new-group-speakers').querySelectorAll('input:checked')].map((box) => box.value);
    if (!chosen.length) {
      toast('Choose the speakers of the new group.');
      return;
    }
    const result = await act('Group.Create', { name: $('new-group-name').value, clients: chosen });
    if (result) {
      $('new-group').open = false;
      $('new-group-name').value = '';
      renderNewGroupSpeakers();
    }
  });
  $('pair-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const params = { left: $('pair-left').value, right: $('pair-right').value };
    if ($('pair-name').value) params.name = $('pair-name').value;
    if (await act('Pair.Create', params)) $('pair-name').value = '';
  });
  $('stream-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (await act('Stream.AddStream', { streamUri: $('stream-uri').value })) $('stream-uri').value = '';
  });
  $('token-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    tokenStore.set($('token-input').value);
    try {
      await connection.call('Server.Authenticate', { token: $('token-input').value });
      $('token-form').hidden = true;
      load();
    } catch (error) {
      tokenStore.clear();
      toast(error.message);
    }
  });
}

async function say(dryRun) {
  const text = $('say-input').value.trim();
  if (!text) return;
  const output = $('say-output');
  try {
    const result = await connection.call('Command.Run', { text, dryRun });
    output.textContent = (dryRun ? 'Would: ' : 'Done: ') + (result.done.join('; ') || 'nothing');
    if (!dryRun) {
      $('say-input').value = '';
      await refresh(true);
    }
  } catch (error) {
    const data = error.data && typeof error.data === 'object' ? error.data : {};
    const names = (data.candidates && data.candidates.length ? data.candidates : data.suggestions) || [];
    output.textContent = `${error.message}${names.length ? `\nDid you mean: ${names.join(', ')}?` : ''}`;
  }
}

// MARK: Connection

async function probe(method) {
  try {
    return { available: true, result: await connection.call(method) };
  } catch (error) {
    return { available: error.code !== -32601, result: null };
  }
}

async function load() {
  try {
    const status = await connection.call('Server.GetStatus');
    state.server = status.server;
  } catch (error) {
    if (error.code === -32001) {
      $('token-form').hidden = false;
      $('token-input').focus();
    } else {
      toast(error.message);
    }
    return;
  }
  $('token-form').hidden = true;
  await act('Server.Subscribe', { sync: true });
  const routines = await probe('Routine.List');
  state.features.routines = routines.available;
  state.routines = routines.result ? routines.result.routines : [];
  state.features.bluetooth = (await probe('Bluetooth.GetStatus')).available;
  await loadBluetooth();
  await loadCapabilities();
  state.features.calibration = (await probe('Calibration.GetStatus')).available;
  for (const client of clients()) recordSync(client.id, client.sync);
  render();
}

function onNotification(method, params) {
  switch (method) {
    case 'Server.OnUpdate':
      state.server = params.server;
      if (clients().some((client) => !state.capabilities.has(client.id))) loadCapabilities();
      break;
    case 'Client.OnVolumeChanged': patchClient(params.id, (client) => { client.config.volume = params.volume; }); break;
    case 'Client.OnLatencyChanged': patchClient(params.id, (client) => { client.config.latency = params.latency; }); break;
    case 'Client.OnNameChanged': patchClient(params.id, (client) => { client.config.name = params.name; }); break;
    case 'Client.OnChannelChanged': patchClient(params.id, (client) => { client.config.channel = params.channel; }); break;
    case 'Client.OnConnect':
    case 'Client.OnDisconnect':
      for (const group of groups()) {
        const index = group.clients.findIndex((client) => client.id === params.id);
        if (index >= 0) group.clients[index] = params.client;
      }
      loadCapabilities();
      break;
    case 'Client.OnSyncStatus':
      // About once a second per speaker: only that speaker's sync line is redrawn.
      patchClient(params.id, (client) => { client.sync = params.sync; });
      recordSync(params.id, params.sync);
      updateSync(params.id);
      return;
    case 'Group.OnMute': patchGroup(params.id, (group) => { group.muted = params.mute; }); break;
    case 'Group.OnStreamChanged': patchGroup(params.id, (group) => { group.stream_id = params.stream_id; }); break;
    case 'Group.OnNameChanged': patchGroup(params.id, (group) => { group.name = params.name; }); break;
    case 'Stream.OnUpdate': {
      const index = streams().findIndex((stream) => stream.id === params.id);
      if (index >= 0) state.server.streams[index] = params.stream;
      break;
    }
    case 'Routine.OnUpdate': state.routines = params.routines; break;
    case 'Routine.OnRun':
      if (!params.ok && params.failed) toast(`${params.label}: ${params.failed.reason}`);
      break;
    default: return;
  }
  if (state.server) scheduleRender();
}

const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/jsonrpc`;
const connection = new Connection(url, {
  tokenStore,
  onOpen: () => { state.connected = true; load(); },
  onClose: () => { state.connected = false; render(); },
  onNotification,
});

wireForms();
render();
connection.open();
