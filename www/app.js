// Convene demo: a video room built on the Convene package (RoomSession).
// No framework: plain DOM, one module. Everything the page knows about the
// room comes from RoomSession events; the DOM is a projection of `members`.

const $ = (id) => document.getElementById(id);

/** State of the page, also exposed as `window.__demo` for debugging and tests. */
const demo = {
  session: null,
  memberId: null,
  room: '',
  name: '',
  connection: 'idle',
  members: new Map(), // id -> normalised member
  permissions: [],
  layouts: [],
  layoutName: '',
  locked: false,
  meta: {},
  chat: [],
  events: [],
  screenShare: null,
  handRaised: false,
  leftReason: null,
  leaving: false,
  joined: false,
  audienceTotal: 0,
  chatRoom: null, // the chat companion Room, when RoomSession has no messaging of its own
  chatId: null, // this page's chat address
};
window.__demo = demo;

// ---------------------------------------------------------------- helpers

/** Permissions asked for when "moderator rights" is ticked, and otherwise. */
const MODERATOR_PERMISSIONS = ['*'];
const MEMBER_PERMISSIONS = [
  'room.self.*',
  'room.list_available_layouts',
  'room.message.send',
  'room.subscribe',
];

/** RoomSession events the page listens to (names of the RoomSession documents). */
const EVENTS = [
  'room.joined', 'room.left', 'room.updated', 'room.ended', 'room.audience_count', 'layout.changed',
  'member.joined', 'member.updated', 'member.left', 'member.talking',
  'member.updated.audioMuted', 'member.updated.videoMuted', 'member.updated.deaf',
  'member.updated.handraised', 'member.updated.visible',
  'call.state', 'connection.state', 'media.connected', 'media.reconnecting', 'media.disconnected',
  'autoplay.blocked', 'device.updated',
];

function pick(obj, ...keys) {
  if (!obj || typeof obj !== 'object') return undefined;
  for (const k of keys) if (obj[k] !== undefined && obj[k] !== null) return obj[k];
  return undefined;
}

/** Map a member (full or partial, snake_case or camelCase) to the page's own shape. */
function normMember(m) {
  const out = {};
  const set = (key, value) => { if (value !== undefined) out[key] = value; };
  set('id', pick(m, 'id', 'member_id', 'memberId'));
  set('name', pick(m, 'name', 'display_name', 'displayName'));
  set('audioMuted', pick(m, 'audio_muted', 'audioMuted'));
  set('videoMuted', pick(m, 'video_muted', 'videoMuted'));
  set('deaf', pick(m, 'deaf'));
  set('handraised', pick(m, 'handraised', 'hand_raised', 'handRaised', 'raised_hand'));
  set('talking', pick(m, 'talking'));
  set('state', pick(m, 'state'));
  set('role', pick(m, 'role', 'join_as'));
  set('kind', pick(m, 'type'));
  set('visible', pick(m, 'visible'));
  set('meta', pick(m, 'meta'));
  set('identity', pick(m, 'identity'));
  return out;
}

function safeClone(value) {
  try {
    return JSON.parse(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)));
  } catch {
    return String(value);
  }
}

/** Wildcard permission match: `*` matches all, a trailing `.*` one or more segments. */
function permits(granted, required) {
  if (granted === '*' || granted === required) return true;
  if (granted.endsWith('.*')) return required.startsWith(granted.slice(0, -1));
  return false;
}
function can(perm) {
  return demo.permissions.some((g) => permits(g, perm));
}

function showError(err, context) {
  const code = pick(err, 'code');
  const name = pick(err, 'name') || 'Error';
  const message = pick(err, 'message') || String(err);
  const text = `${context ? context + ': ' : ''}${name}${code !== undefined ? ` (${code})` : ''}: ${message}`;
  $('error-text').textContent = text;
  $('error').dataset.code = code !== undefined ? String(code) : '';
  $('error').classList.remove('hidden');
  console.warn(text);
}
function clearError() {
  $('error').classList.add('hidden');
  $('error').dataset.code = '';
}
function notice(text) {
  const el = $('notice');
  el.textContent = text;
  el.classList.toggle('hidden', !text);
}

/** Run an SDK call from a UI action; failures become a readable error. */
async function act(context, fn) {
  try {
    clearError();
    return await fn();
  } catch (err) {
    showError(err, context);
    return undefined;
  }
}

function setConnection(state) {
  demo.connection = state;
  const el = $('conn-status');
  el.dataset.state = state;
  el.textContent = state === 'idle' ? 'not connected' : state;
}

function setQuality(level) {
  const el = $('net-quality');
  el.dataset.level = level === undefined || level === null ? '' : String(level);
  el.title = `Network quality: ${level ?? 'unknown'} of 5`;
}

// ---------------------------------------------------------------- SDK loading

let sdk = null;
async function loadSdk() {
  if (sdk) return sdk;
  const mod = await import('/pkg/convene.js');
  await mod.default();
  sdk = mod;
  return sdk;
}

async function fetchToken({ room, identity, name, role, moderator }) {
  const body = { room, identity, name, role, permissions: moderator ? MODERATOR_PERMISSIONS : MEMBER_PERMISSIONS };
  const res = await fetch('/dev/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) {
    const err = new Error(`the dev server refused a token (HTTP ${res.status}): ${await res.text()}`);
    err.name = 'TokenRequestError';
    err.code = res.status;
    throw err;
  }
  const json = await res.json();
  return json.token;
}

// ---------------------------------------------------------------- join / leave

$('join-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const room = $('join-room').value.trim();
  const name = $('join-name').value.trim();
  const role = new FormData(ev.target).get('role') || 'member';
  const moderator = $('join-moderator').checked;
  if (!room || !name) return;
  $('join-button').disabled = true;
  clearError();
  notice('');
  try {
    await join({ room, name, role, moderator });
  } catch (err) {
    showError(err, 'Join failed');
    await teardown();
    setConnection('disconnected');
  } finally {
    $('join-button').disabled = false;
  }
});

function randomSuffix() {
  const a = new Uint8Array(4);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function join({ room, name, role, moderator }) {
  setConnection('connecting');
  const { RoomSession } = await loadSdk();
  const identity = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 32)}-${randomSuffix()}`;
  const token = await fetchToken({ room, identity, name, role, moderator });
  demo.room = room;
  demo.name = name;
  demo.leftReason = null;
  demo.members.clear();
  const publish = role !== 'audience';
  const session = new RoomSession({ token, rootElement: $('video-root') });
  demo.session = session;
  for (const name of EVENTS) session.on(name, (...args) => onEvent(name, ...args));
  // `?media=off` joins for signaling only (no camera, microphone or remote media).
  const media = new URLSearchParams(location.search).get('media') !== 'off';
  await session.join({
    audio: publish && media,
    video: publish && media ? { width: 640, height: 480 } : false,
    sendAudio: publish && media,
    sendVideo: publish && media,
    receiveAudio: media,
    receiveVideo: media,
  });
  if (demo.session !== session) return; // left or kicked meanwhile
  demo.joined = true;
  demo.memberId = pick(session, 'memberId') ?? demo.memberId;
  demo.permissions = Array.from(pick(session, 'permissions') || demo.permissions || []);
  setConnection('connected');
  $('join-view').classList.add('hidden');
  $('call-view').classList.remove('hidden');
  $('room-title').textContent = `${room} · ${name}${role === 'audience' ? ' (audience)' : ''}`;
  $('self-view').classList.toggle('hidden', !(publish && media));
  attachSelfView();
  if (demo.members.size === 0) {
    const res = await act('Loading members', () => session.getMembers());
    for (const m of pick(res, 'members') || []) upsertMember(normMember(m));
  }
  if (demo.memberId && !demo.members.has(demo.memberId)) {
    upsertMember({ id: demo.memberId, name, role, audioMuted: !publish, videoMuted: !publish });
  }
  await Promise.all([loadLayouts(), loadMeta(), refreshDevices()]);
  renderAll();
  await act('Chat', () => startChat(session, { room, identity, name }));
  startQualityProbe(session);
}

async function leave() {
  const session = demo.session;
  if (!session) return;
  const chat = demo.chatRoom;
  demo.leaving = true;
  try {
    await act('Leave', () => session.leave());
  } finally {
    demo.leaving = false;
  }
  await teardown();
  if (chat) await act('Leave chat', () => chat.disconnect());
  setConnection('idle');
}

/** Forget the session: the page returns to the join form. */
async function teardown() {
  if (demo.session) {
    // Stop listening first: nothing of the old session reaches the page any more.
    demo.session.removeAllListeners();
  }
  stopChat();
  stopQualityProbe();
  demo.session = null;
  demo.joined = false;
  demo.memberId = null;
  demo.screenShare = null;
  demo.handRaised = false;
  demo.members.clear();
  demo.chat = [];
  $('self-video').srcObject = null;
  $('video-root').replaceChildren();
  $('chat-log').replaceChildren();
  $('call-view').classList.add('hidden');
  $('join-view').classList.remove('hidden');
  $('room-title').textContent = '';
  setQuality(null);
  renderAll();
}

$('btn-leave').addEventListener('click', () => leave());

// The package draws the videos into #video-root following the layout; the page puts a name
// label over each tile, and hides its corner self view when the layout shows your camera.
function renderTiles() {
  const own = demo.memberId && $('video-root').querySelector(`video[data-member-id="${CSS.escape(demo.memberId)}"]`);
  $('self-view').classList.toggle('in-layout', !!own);
  const tiles = [...$('video-root').querySelectorAll('video[data-member-id]')]
    .filter((v) => v.style.display !== 'none')
    .map((v) => {
      const m = demo.members.get(v.dataset.memberId);
      const tile = document.createElement('div');
      tile.className = 'tile';
      for (const k of ['left', 'top', 'width', 'height', 'zIndex']) tile.style[k] = v.style[k];
      tile.dataset.talking = String(!!m?.talking);
      const label = document.createElement('span');
      label.textContent = `${m?.handraised ? '✋ ' : ''}${m?.name ?? ''}${v.dataset.memberId === demo.memberId ? ' (you)' : ''}${m?.audioMuted ? ' · muted' : ''}`;
      tile.append(label);
      return tile;
    });
  $('video-labels').replaceChildren(...tiles);
}
new MutationObserver(renderTiles)
  .observe($('video-root'), { childList: true, subtree: true, attributes: true, attributeFilter: ['data-member-id', 'style'] });

function attachSelfView() {
  const session = demo.session;
  const stream = pick(session, 'localStream');
  const video = $('self-video');
  if (stream && video.srcObject !== stream) video.srcObject = stream;
  if (!stream) video.srcObject = null;
}

// ---------------------------------------------------------------- events

function onEvent(name, e, ...rest) {
  demo.events.push({ name, t: Date.now(), data: safeClone(e), rest: rest.length ? safeClone(rest) : undefined });
  if (demo.events.length > 5000) demo.events.splice(0, 1000);
  switch (name) {
    case 'room.joined': return onRoomJoined(e);
    case 'room.updated': return onRoomUpdated(pick(e, 'room', 'room_session') || e);
    case 'layout.changed': {
      const layout = pick(e, 'layout') || e;
      demo.layoutName = pick(layout, 'name', 'id', 'layout_name') || demo.layoutName;
      return renderRoomControls();
    }
    case 'member.joined': {
      upsertMember(normMember(pick(e, 'member') || e));
      return renderMembers();
    }
    case 'member.updated': {
      const m = normMember(pick(e, 'member') || e);
      if (demo.members.has(m.id) || m.name !== undefined) upsertMember(m);
      return renderMembers();
    }
    case 'member.left': {
      const m = pick(e, 'member') || e;
      const id = pick(m, 'id', 'member_id', 'memberId') ?? pick(e, 'member_id', 'memberId');
      if (id === demo.memberId) return onSelfLeft(e);
      demo.members.delete(id);
      return renderMembers();
    }
    case 'member.talking': {
      const m = pick(e, 'member') || e;
      const id = pick(m, 'id', 'member_id', 'memberId') ?? pick(e, 'member_id');
      const talking = pick(m, 'talking') ?? pick(e, 'talking');
      // Talking is volatile and may trail a member's departure: only for members still here.
      if (id && demo.members.has(id)) upsertMember({ id, talking: !!talking });
      return renderMembers();
    }
    case 'room.audience_count':
      demo.audienceTotal = pick(e, 'total') ?? 0;
      return renderAudience();
    case 'room.left':
    case 'room.ended':
      return onSelfLeft(e, name);
    case 'call.state':
    case 'connection.state': {
      const state = typeof e === 'string' ? e : pick(e, 'state');
      const error = rest[0] ?? pick(e, 'error');
      if (state) setConnection(state);
      // Before join() settles, its own rejection reports the failure.
      if (state === 'disconnected' && error && demo.session && demo.joined && !demo.leaving) {
        if (pick(error, 'code') === 54104) return onSelfLeft({ reason: 'removed' });
        showError(error, 'Disconnected');
        return onSelfLeft({ reason: 'disconnected' }, name);
      }
      return undefined;
    }
    case 'media.reconnecting':
      return setQuality(1);
    case 'autoplay.blocked':
      return showAutoplayPrompt();
    case 'device.updated':
      return refreshDevices();
    default:
      return undefined;
  }
}

function renderAudience() {
  // With the chat companion (an audience member per page) the server's audience count would
  // count those too, so the figure is shown only when the package carries messages itself.
  const total = demo.chatRoom ? 0 : demo.audienceTotal || 0;
  $('audience-count').textContent = `+${total} watching`;
  $('audience-count').classList.toggle('hidden', !total);
}

function onRoomJoined(e) {
  const rs = pick(e, 'room_session', 'room') || e;
  demo.memberId = pick(e, 'member_id', 'memberId') ?? pick(pick(e, 'self'), 'id') ?? demo.memberId;
  const members = pick(rs, 'members') || pick(e, 'members');
  if (Array.isArray(members)) for (const m of members) upsertMember(normMember(m));
  const self = pick(e, 'self', 'member');
  if (self) upsertMember(normMember(self));
  onRoomUpdated(rs);
}

function onRoomUpdated(room) {
  const locked = pick(room, 'locked');
  if (locked !== undefined) demo.locked = !!locked;
  const layout = pick(room, 'layout_name', 'layoutName', 'layout');
  if (typeof layout === 'string') demo.layoutName = layout;
  const meta = pick(room, 'meta');
  if (meta && typeof meta === 'object') demo.meta = meta;
  renderRoomControls();
  renderMeta();
}

function onSelfLeft(e, name) {
  if (!demo.session || !demo.joined || demo.leaving) return;
  const reason = pick(e, 'reason') || (name === 'room.ended' ? 'room_ended' : 'left');
  const error = pick(e, 'error');
  demo.leftReason = reason;
  if (reason === 'left' || reason === 'leave') {
    // An ordinary leave() also ends here; nothing to announce.
    return;
  }
  if (error && pick(error, 'code') !== 54104) showError(error, 'Left the room');
  const text = {
    removed: 'You were removed from the room by a moderator.',
    kicked: 'You were removed from the room by a moderator.',
    room_ended: 'The room has ended.',
    duplicate_identity: 'You joined this room from another tab.',
    demoted: 'You are now in the audience.',
  }[reason] || `You left the room (${reason}).`;
  notice(text);
  $('notice').dataset.reason = reason;
  setConnection('disconnected');
  const chat = demo.chatRoom;
  teardown();
  if (chat) chat.disconnect().catch(() => {});
}

function upsertMember(partial) {
  if (!partial || partial.id === undefined) return;
  const prev = demo.members.get(partial.id) || { id: partial.id };
  const next = { ...prev };
  for (const [k, v] of Object.entries(partial)) if (v !== undefined) next[k] = v;
  demo.members.set(partial.id, next);
  if (partial.id === demo.memberId && partial.handraised !== undefined) demo.handRaised = !!partial.handraised;
}

// ---------------------------------------------------------------- rendering

function renderAll() {
  renderMembers();
  renderRoomControls();
  renderMeta();
  renderOwnControls();
}

function flag(label, on, cls) {
  const span = document.createElement('span');
  span.className = `flag ${cls}${on ? ' on' : ''}`;
  span.textContent = label;
  span.dataset.flag = cls;
  span.dataset.on = String(!!on);
  span.hidden = !on;
  return span;
}

function modButton(label, action, memberId, perm) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.dataset.action = action;
  b.dataset.testid = `mod-${action}`;
  b.disabled = !can(perm);
  b.addEventListener('click', () => moderate(action, memberId));
  return b;
}

function renderMembers() {
  const list = $('member-list');
  const items = [...demo.members.values()].sort((a, b) => {
    if (a.id === demo.memberId) return -1;
    if (b.id === demo.memberId) return 1;
    return String(a.name).localeCompare(String(b.name));
  });
  const nodes = items.map((m) => {
    const li = document.createElement('li');
    li.className = 'member';
    li.dataset.testid = 'member';
    li.dataset.memberId = m.id;
    li.dataset.memberName = m.name ?? '';
    li.dataset.self = String(m.id === demo.memberId);
    li.dataset.audioMuted = String(!!m.audioMuted);
    li.dataset.videoMuted = String(!!m.videoMuted);
    li.dataset.deaf = String(!!m.deaf);
    li.dataset.talking = String(!!m.talking);
    li.dataset.handraised = String(!!m.handraised);
    li.dataset.state = m.state || 'active';
    li.dataset.role = m.role || 'member';
    li.dataset.kind = m.kind || 'member';
    const top = document.createElement('div');
    top.className = 'top';
    const nm = document.createElement('span');
    nm.className = 'name';
    nm.textContent = `${m.name ?? m.id}${m.id === demo.memberId ? ' (you)' : ''}`;
    const flags = document.createElement('span');
    flags.className = 'flags';
    flags.append(
      flag('✋ hand', m.handraised, 'hand'),
      flag('talking', m.talking, 'talking'),
      flag('muted', m.audioMuted, 'muted'),
      flag('no video', m.videoMuted, 'video-off'),
      flag('deaf', m.deaf, 'deaf'),
      flag('reconnecting', m.state === 'reconnecting', 'reconnecting'),
      flag('audience', m.role === 'audience', 'audience'),
      flag('screen', m.kind === 'screen', 'screen'),
    );
    top.append(nm, flags);
    li.append(top);
    if (m.id !== demo.memberId && m.kind !== 'screen' && hasAnyModeration()) {
      const mod = document.createElement('div');
      mod.className = 'mod';
      mod.append(
        m.audioMuted
          ? modButton('Unmute', 'audio-unmute', m.id, 'room.member.audio_unmute')
          : modButton('Mute', 'audio-mute', m.id, 'room.member.audio_mute'),
        m.videoMuted
          ? modButton('Video on', 'video-unmute', m.id, 'room.member.video_unmute')
          : modButton('Video off', 'video-mute', m.id, 'room.member.video_mute'),
        m.deaf
          ? modButton('Undeafen', 'undeaf', m.id, 'room.member.undeaf')
          : modButton('Deafen', 'deaf', m.id, 'room.member.deaf'),
        m.role === 'audience'
          ? modButton('Promote', 'promote', m.id, 'room.member.promote')
          : modButton('Demote', 'demote', m.id, 'room.member.demote'),
        modButton('Remove', 'remove', m.id, 'room.member.remove'),
      );
      li.append(mod);
    }
    return li;
  });
  list.replaceChildren(...nodes);
  $('member-count').textContent = String(items.length);
  renderTiles();
  renderAudience();
  renderChatRecipients();
  renderOwnControls();
}

function hasAnyModeration() {
  return ['room.member.audio_mute', 'room.member.remove', 'room.member.deaf', 'room.member.promote', 'room.member.demote']
    .some((p) => can(p));
}

function renderOwnControls() {
  const self = demo.members.get(demo.memberId) || {};
  const audience = self.role === 'audience';
  const mic = $('btn-mic');
  mic.setAttribute('aria-pressed', String(!!self.audioMuted));
  mic.textContent = self.audioMuted ? 'Unmute mic' : 'Mute mic';
  const cam = $('btn-cam');
  cam.setAttribute('aria-pressed', String(!!self.videoMuted));
  cam.textContent = self.videoMuted ? 'Start camera' : 'Stop camera';
  const share = $('btn-share');
  share.setAttribute('aria-pressed', String(!!demo.screenShare));
  share.textContent = demo.screenShare ? 'Stop sharing' : 'Share screen';
  const hand = $('btn-hand');
  hand.textContent = audience ? 'Ask to speak' : self.handraised ? 'Lower hand' : 'Raise hand';
  for (const b of [mic, cam, share]) b.disabled = audience;
  hand.setAttribute('aria-pressed', String(!audience && !!self.handraised));
}

function renderRoomControls() {
  const show = can('room.lock') || can('room.set_layout');
  $('room-controls').classList.toggle('hidden', !show || !demo.session);
  const lock = $('btn-lock');
  lock.textContent = demo.locked ? 'Unlock room' : 'Lock room';
  lock.dataset.locked = String(demo.locked);
  lock.disabled = !can(demo.locked ? 'room.unlock' : 'room.lock');
  $('lock-badge').classList.toggle('hidden', !demo.locked || !demo.session);
  const sel = $('sel-layout');
  const names = demo.layouts.length ? demo.layouts : demo.layoutName ? [demo.layoutName] : [];
  if (sel.options.length !== names.length || [...sel.options].some((o, i) => o.value !== names[i])) {
    sel.replaceChildren(...names.map((n) => new Option(n, n)));
  }
  sel.value = demo.layoutName || '';
  sel.disabled = !can('room.set_layout');
}

function renderMeta() {
  $('meta-view').textContent = JSON.stringify(demo.meta || {}, null, 2);
}

function renderChatRecipients() {
  const sel = $('chat-to');
  const current = sel.value;
  const others = [...demo.members.values()].filter((m) => m.id !== demo.memberId && m.kind !== 'screen');
  const options = others.map((m) => {
    const o = new Option(m.name ?? m.id, m.id);
    o.disabled = !!demo.chatRoom && !(m.meta && m.meta.chat_id); // no chat address yet
    return o;
  });
  sel.replaceChildren(new Option('Everyone', ''), ...options);
  sel.value = options.some((o) => o.value === current && !o.disabled) ? current : '';
}

// ---------------------------------------------------------------- own controls

$('btn-mic').addEventListener('click', () => {
  const s = demo.session;
  const self = demo.members.get(demo.memberId) || {};
  return act('Microphone', () => (self.audioMuted ? s.audioUnmute() : s.audioMute()));
});
$('btn-cam').addEventListener('click', () => {
  const s = demo.session;
  const self = demo.members.get(demo.memberId) || {};
  return act('Camera', () => (self.videoMuted ? s.videoUnmute() : s.videoMute()));
});
$('btn-hand').addEventListener('click', () => {
  const s = demo.session;
  const self = demo.members.get(demo.memberId) || {};
  if (self.role === 'audience') return askToSpeak();
  return act('Raise hand', () => s.setRaisedHand({ raised: !self.handraised }));
});

/**
 * The audience is invisible to the room, so an audience member asks to speak through chat: a
 * message to everyone whose meta names the member; moderators get a Promote button on it.
 */
async function askToSpeak() {
  const chat = demo.chatRoom || demo.session;
  const ok = await act('Ask to speak', async () => {
    await chat.sendMessage({ type: 'text', payload: `${demo.name} asks to speak`, meta: { ask_to_speak: demo.memberId } });
    return true;
  });
  if (ok) notice('The moderators were asked to let you speak.');
}
$('btn-share').addEventListener('click', async () => {
  const s = demo.session;
  if (demo.screenShare) {
    const share = demo.screenShare;
    demo.screenShare = null;
    await act('Screen share', () => (share.leave ? share.leave() : share.stop()));
  } else {
    demo.screenShare = (await act('Screen share', () => s.startScreenShare({ audio: false, video: true }))) || null;
  }
  renderOwnControls();
});
$('btn-devices').addEventListener('click', async () => {
  const el = $('devices');
  el.classList.toggle('hidden');
  $('btn-devices').setAttribute('aria-expanded', String(!el.classList.contains('hidden')));
  await refreshDevices();
});

async function refreshDevices() {
  if (!navigator.mediaDevices?.enumerateDevices) return;
  const devices = await navigator.mediaDevices.enumerateDevices();
  const s = demo.session;
  const fill = (sel, kind, current) => {
    const list = devices.filter((d) => d.kind === kind);
    sel.replaceChildren(...list.map((d, i) => new Option(d.label || `${kind} ${i + 1}`, d.deviceId)));
    if (current && list.some((d) => d.deviceId === current)) sel.value = current;
    sel.disabled = list.length === 0;
  };
  fill($('sel-camera'), 'videoinput', pick(s, 'cameraId'));
  fill($('sel-mic'), 'audioinput', pick(s, 'microphoneId'));
  fill($('sel-speaker'), 'audiooutput', $('sel-speaker').value);
}
navigator.mediaDevices?.addEventListener?.('devicechange', () => refreshDevices());

$('sel-camera').addEventListener('change', async (ev) => {
  await act('Camera switch', () => demo.session.updateCamera({ deviceId: { exact: ev.target.value } }));
  attachSelfView();
});
$('sel-mic').addEventListener('change', (ev) =>
  act('Microphone switch', () => demo.session.updateMicrophone({ deviceId: { exact: ev.target.value } })));
$('sel-speaker').addEventListener('change', (ev) =>
  act('Speaker switch', () => demo.session.updateSpeaker({ deviceId: ev.target.value })));

function showAutoplayPrompt() {
  notice('The browser blocked playback. Click anywhere to enable sound.');
  document.addEventListener('click', () => {
    const s = demo.session;
    notice('');
    if (s) act('Playback', () => s.resumePlayback());
  }, { once: true });
}

// ---------------------------------------------------------------- network quality

/**
 * A 0..5 network quality figure from what this page actually receives: the frame
 * rate of the remote videos over the last two seconds (5 = smooth, 1 = stalled),
 * capped while the connection is reconnecting. Unknown without remote video.
 */
let qualityTimer = null;
let qualityLast = new Map();
function startQualityProbe(session) {
  stopQualityProbe();
  qualityTimer = setInterval(() => {
    if (demo.session !== session) return;
    const videos = [...document.querySelectorAll('#video-root video')].filter((v) => v.srcObject);
    const now = performance.now();
    const next = new Map();
    let worst = null;
    for (const v of videos) {
      const frames = v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : 0;
      next.set(v, { frames, t: now });
      const prev = qualityLast.get(v);
      if (!prev) continue;
      const fps = ((frames - prev.frames) * 1000) / Math.max(1, now - prev.t);
      worst = worst === null ? fps : Math.min(worst, fps);
    }
    qualityLast = next;
    if (worst === null) return setQuality(null);
    let level = worst >= 20 ? 5 : worst >= 12 ? 4 : worst >= 6 ? 3 : worst >= 1 ? 2 : 1;
    if (demo.connection === 'reconnecting') level = Math.min(level, 2);
    return setQuality(level);
  }, 2000);
}
function stopQualityProbe() {
  if (qualityTimer) clearInterval(qualityTimer);
  qualityTimer = null;
  qualityLast = new Map();
}

// ---------------------------------------------------------------- moderation

function moderate(action, memberId) {
  const s = demo.session;
  const p = { memberId };
  const calls = {
    'audio-mute': () => s.audioMute(p),
    'audio-unmute': () => s.audioUnmute(p),
    'video-mute': () => s.videoMute(p),
    'video-unmute': () => s.videoUnmute(p),
    deaf: () => s.deaf(p),
    undeaf: () => s.undeaf(p),
    remove: () => s.removeMember(p),
    promote: () => s.promote(p),
    demote: () => s.demote(p),
  };
  return act(`Moderation (${action})`, calls[action]);
}

$('btn-lock').addEventListener('click', () => {
  const s = demo.session;
  return act(demo.locked ? 'Unlock' : 'Lock', async () => {
    if (demo.locked) await s.unlock(); else await s.lock();
  });
});

async function loadLayouts() {
  const s = demo.session;
  if (!s || !can('room.list_available_layouts')) return;
  const res = await act('Layouts', () => s.getLayouts());
  demo.layouts = pick(res, 'layouts') || [];
  renderRoomControls();
}
$('sel-layout').addEventListener('change', (ev) =>
  act('Layout', () => demo.session.setLayout({ name: ev.target.value })));

// ---------------------------------------------------------------- chat

/**
 * Chat goes through the package's messaging API (`sendMessage` / `message_received`,
 * as the Room documents name them). RoomSession has no messaging of its own, so the
 * page opens a companion `Room` for chat: an invisible audience member whose
 * address (its participant id) the page publishes in its own member meta as
 * `chat_id`. Others look that address up to send to one member.
 */
async function startChat(session, { room, identity, name }) {
  if (demo.session !== session) return;
  if (typeof session.sendMessage === 'function') {
    // A RoomSession with messaging of its own: no companion needed.
    session.on('message.received', (e) => onMessage(e));
    demo.chatId = demo.memberId;
    return;
  }
  const token = await fetchToken({
    room, identity: `${identity}~chat`, name, role: 'audience', permissions: ['room.message.send'],
  });
  const chat = new sdk.Room({ clientToken: token });
  chat.on('message_received', (from, message, recipients) => {
    demo.events.push({ name: 'message_received', t: Date.now(), data: safeClone({ from, message, recipients }) });
    onMessage({ from, message, recipients });
  });
  chat.on('error', (err) => showError(err, 'Chat'));
  demo.chatRoom = chat;
  await chat.connect();
  if (demo.session !== session) {
    await chat.disconnect();
    return;
  }
  demo.chatId = chat.getLocalParticipant().id;
  await session.updateMemberMeta({ meta: { chat_id: demo.chatId } });
}

function stopChat() {
  demo.chatRoom = null;
  demo.chatId = null;
}

/** The member that owns chat address `id`. */
function memberByChatId(id) {
  for (const m of demo.members.values()) if (m.id === id || (m.meta && m.meta.chat_id === id)) return m;
  return undefined;
}

function onMessage({ from, message, recipients }) {
  if (from && from === demo.chatId) return; // our own message, already shown
  const text = typeof message === 'string' ? message : pick(message, 'payload', 'text') ?? JSON.stringify(message);
  const promoteId = pick(pick(message, 'meta'), 'ask_to_speak');
  addChat({ from, text, private: Array.isArray(recipients) && recipients.length > 0, promoteId });
}

function addChat(msg) {
  demo.chat.push(msg);
  const sender = msg.self ? demo.members.get(demo.memberId) : memberByChatId(msg.from);
  const li = document.createElement('li');
  li.dataset.testid = 'chat-message';
  li.dataset.from = sender?.id ?? msg.from ?? '';
  li.dataset.private = String(msg.private);
  const from = document.createElement('span');
  from.className = 'from';
  from.textContent = msg.self ? 'You' : sender?.name ?? 'someone';
  const text = document.createElement('span');
  text.className = 'text';
  text.textContent = ` ${msg.text}`;
  li.append(from);
  if (msg.private) {
    const p = document.createElement('span');
    p.className = 'private';
    p.textContent = msg.self ? ` (to ${msg.toName})` : ' (private)';
    li.append(p);
  }
  li.append(text);
  if (msg.promoteId && can('room.member.promote')) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = 'Promote';
    b.dataset.action = 'promote';
    b.dataset.memberId = msg.promoteId;
    b.addEventListener('click', async () => {
      b.disabled = true;
      const done = await act('Promote', async () => {
        await demo.session.promote({ memberId: msg.promoteId });
        return true;
      });
      if (!done) b.disabled = false;
    });
    li.append(' ', b);
  }
  $('chat-log').append(li);
  li.scrollIntoView({ block: 'nearest' });
}

$('chat-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const s = demo.session;
  const chat = demo.chatRoom || s;
  const input = $('chat-input');
  const text = input.value.trim();
  if (!s || !text) return;
  const to = $('chat-to').value;
  const target = to ? demo.members.get(to) : null;
  const address = target ? (demo.chatRoom ? target.meta?.chat_id : target.id) : null;
  if (to && !address) {
    showError({ name: 'RecipientNotReadyError', message: `${target?.name ?? 'that member'} cannot receive messages yet` }, 'Chat');
    return;
  }
  input.value = '';
  const ok = await act('Chat', async () => {
    await chat.sendMessage({ type: 'text', payload: text }, address ? [address] : undefined);
    return true;
  });
  if (ok) {
    addChat({ from: demo.chatId, self: true, text, private: !!to, toName: target?.name ?? to });
  } else {
    input.value = text;
  }
});

// ---------------------------------------------------------------- meta

async function loadMeta() {
  const s = demo.session;
  if (!s) return;
  const res = await act('Room meta', () => s.getMeta());
  const meta = pick(res, 'meta');
  if (meta && typeof meta === 'object') demo.meta = meta;
  renderMeta();
}

$('meta-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const mode = ev.submitter?.value || 'update';
  let meta;
  try {
    meta = JSON.parse($('meta-input').value || '{}');
    if (!meta || typeof meta !== 'object' || Array.isArray(meta)) throw new Error('meta must be a JSON object');
  } catch (err) {
    showError({ name: 'InvalidMetaError', message: err.message }, 'Room meta');
    return;
  }
  const s = demo.session;
  await act('Room meta', () => (mode === 'set' ? s.setMeta(meta) : s.updateMeta(meta)));
});

// ---------------------------------------------------------------- misc

$('error-close').addEventListener('click', clearError);
window.addEventListener('pagehide', () => {
  if (demo.session) demo.session.leave().catch(() => {});
});
const params = new URLSearchParams(location.search);
if (params.get('room')) $('join-room').value = params.get('room');
if (params.get('name')) $('join-name').value = params.get('name');
