// Browser tests of the package's facades (RoomSession, Room, Call, connect()) against the real
// server in headless Chromium with fake media. Each page loads the release package from pkg/
// exactly as an application does. Prints one line per check and `TIER-COUNT <passed> <failed>`.
//
// Usage: node tests/api/facades.mjs   (needs pkg/ and a built convene-server)

import { launchBrowser, sleep, startServer } from '../e2e/harness.mjs';
import { serve } from '../../scripts/lib/static-server.mjs';
import { join } from 'node:path';
import { ROOT } from '../e2e/harness.mjs';

const only = process.argv[2];
const results = [];
const server = await startServer();
const host = `127.0.0.1:${server.port}`;
const web = await serve({
  mounts: { '/pkg/': join(ROOT, 'pkg') },
  pages: {
    '/': '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><div id="root" style="width:640px;height:360px"></div>',
  },
});
const browser = await launchBrowser();
const run = `${process.pid}`;

async function token(room, identity, extra = {}) {
  const res = await fetch(`${server.base}/dev/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ room: `api-${room}-${run}`, identity, ...extra }),
  });
  if (!res.ok) throw new Error(`token: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()).token;
}

/** A page with the package loaded as `window.api`; page errors are collected. */
async function page(name) {
  const ctx = await browser.newContext();
  const p = await ctx.newPage();
  p.errors = [];
  p.on('pageerror', (e) => p.errors.push(`${name}: ${e}`));
  p.on('console', (m) => {
    if (m.type() === 'error') p.errors.push(`${name} console.error: ${m.text()}`);
  });
  await p.goto(`${web.url}/`);
  await p.evaluate(async (host) => {
    window.api = await import('/pkg/convene.js');
    await window.api.default();
    window.host = host;
    window.log = [];
    window.waitFor = async (fn, ms = 15000) => {
      const end = Date.now() + ms;
      for (;;) {
        const v = await fn();
        if (v) return v;
        if (Date.now() > end) throw new Error(`timed out waiting for ${fn}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
  }, host);
  return p;
}

async function check(name, fn) {
  if (only && !name.includes(only)) return;
  const t0 = Date.now();
  try {
    await fn();
    results.push([name, true]);
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push([name, false]);
    console.log(`FAIL ${name}: ${e?.stack ?? e}`);
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

// ------------------------------------------------------------------------------------------
// RoomSession
// ------------------------------------------------------------------------------------------
const tokA = await token('rs', 'alice');
const tokB = await token('rs', 'bob');
const A = await page('A');
const B = await page('B');

await check('RoomSession: join, member.joined, remote video rendered into rootElement by layout', async () => {
  await A.evaluate(async (tok) => {
    window.rs = new api.RoomSession({ token: tok, host, rootElement: document.getElementById('root') });
    rs.on('member.joined', (e) => log.push(['member.joined', e.member.name, e.member.id, e.room_session_id]));
    rs.on('member.updated.audioMuted', (e) => log.push(['audioMuted', e.member.id, e.member.audioMuted]));
    rs.on('layout.changed', (e) => log.push(['layout', e.layout.name, e.layout.layers.length]));
    const joined = await rs.join();
    if (typeof joined.leave !== 'function') throw new Error('join() must resolve to the RoomSession');
  }, tokA);
  await B.evaluate(async (tok) => {
    window.rs = new api.RoomSession({ token: tok, host, rootElement: document.getElementById('root') });
    rs.on('member.updated.audioMuted', (e) => log.push(['audioMuted', e.member.id, e.member.audioMuted]));
    rs.on('layout.changed', (e) => log.push(['layout', e.layout.name, e.layout.layers.length]));
    rs.on('room.updated', (e) => log.push(['room.updated', e.room.meta]));
    await rs.join();
  }, tokB);
  const bId = await B.evaluate(() => rs.memberId);
  assert(bId && bId.length > 0, 'memberId after join');
  const joined = await A.evaluate(() => waitFor(() => log.find((l) => l[0] === 'member.joined')));
  assert(joined[2] === bId, `member.joined carries bob's id (${JSON.stringify(joined)})`);
  const tile = await A.evaluate(
    (bId) =>
      waitFor(() => {
        const v = document.querySelector(`#root video[data-member-id="${bId}"]`);
        return v && v.videoWidth > 0 && { w: v.videoWidth, style: v.getAttribute('style') };
      }, 20000),
    bId,
  );
  assert(/position:absolute/.test(tile.style) && /left:/.test(tile.style), `tile is placed (${tile.style})`);
  const own = await A.evaluate(() => !!rs.localVideoTrack && rs.localVideoTrack.readyState === 'live' && rs.localAudioTrack.readyState);
  assert(own === 'live', 'local camera and microphone are live');
  const speaker = await A.evaluate(async () => {
    const outs = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audiooutput');
    await rs.updateSpeaker({ deviceId: outs[outs.length - 1].deviceId });
    return rs.updateSpeaker({}).catch((e) => e.name);
  });
  assert(speaker === 'InvalidParamsError', `updateSpeaker routes audio; a missing deviceId is refused (${speaker})`);
});

await check('RoomSession: moderator mutes another member; both sides get member.updated.audioMuted', async () => {
  const bId = await B.evaluate(() => rs.memberId);
  await A.evaluate((bId) => rs.audioMute({ memberId: bId }), bId);
  for (const P of [A, B]) {
    const ev = await P.evaluate((bId) => waitFor(() => log.find((l) => l[0] === 'audioMuted' && l[1] === bId && l[2] === true)), bId);
    assert(ev, 'audioMuted event');
  }
  const members = await A.evaluate(() => rs.getMembers());
  const bob = members.members.find((m) => m.id === bId);
  assert(bob && bob.audioMuted === true && bob.roomSessionId, `getMembers shows bob muted (${JSON.stringify(bob)})`);
});

await check('RoomSession: self audioMute stops sending and others see it; once/off/removeAllListeners', async () => {
  const aId = await A.evaluate(() => rs.memberId);
  await A.evaluate(() => rs.audioMute());
  const ev = await B.evaluate((aId) => waitFor(() => log.find((l) => l[0] === 'audioMuted' && l[1] === aId && l[2] === true)), aId);
  assert(ev, 'self mute seen by the other member');
  assert((await A.evaluate(() => rs.localAudioTrack.enabled)) === false, 'local microphone disabled');
  await A.evaluate(() => rs.audioUnmute());
  await B.evaluate((aId) => waitFor(() => log.find((l) => l[0] === 'audioMuted' && l[1] === aId && l[2] === false)), aId);
  const counts = await B.evaluate(async () => {
    const c = { once: 0, off: 0, all: 0 };
    const offFn = () => (c.off += 1);
    rs.once('member.updated', () => (c.once += 1)).on('member.updated', offFn).on('member.updated.deaf', () => (c.all += 1));
    rs.off('member.updated', offFn);
    rs.removeAllListeners('member.updated.deaf');
    await rs.deaf();
    await rs.undeaf();
    await new Promise((r) => setTimeout(r, 500));
    return c;
  });
  assert(counts.once === 1 && counts.off === 0 && counts.all === 0, `listener counts: ${JSON.stringify(counts)}`);
});

await check('RoomSession: bad arguments reject with typed errors before sending', async () => {
  const errs = await A.evaluate(async () => {
    const out = [];
    const calls = [
      () => rs.setInputVolume({ volume: 99 }),
      () => rs.setOutputVolume({ memberId: 5, volume: 1 }),
      () => rs.removeMember({}),
      () => rs.setLayout({ name: '7x7' }),
      () => rs.setMemberPosition({ position: 'left' }),
      () => rs.setInputSensitivity({ value: -1 }),
      () => rs.deleteMeta('foo'),
      () => rs.sendDigits('1'),
    ];
    for (const c of calls) {
      try {
        await c();
        out.push(null);
      } catch (e) {
        out.push([e instanceof Error, e.name, e.code]);
      }
    }
    return out;
  });
  const want = [
    [true, 'InvalidParamsError', -32602],
    [true, 'InvalidParamsError', -32602],
    [true, 'InvalidParamsError', -32602],
    [true, 'LayoutNotFoundError', 54500],
    [true, 'InvalidPositionError', 54501],
    [true, 'InvalidParamsError', -32602],
    [true, 'InvalidParamsError', -32602],
    [true, 'MethodNotFoundError', -32601],
  ];
  assert(JSON.stringify(errs) === JSON.stringify(want), `typed errors: ${JSON.stringify(errs)}`);
});

await check('RoomSession: getLayouts/setLayout → layout.changed; setMeta → room.updated; getMeta', async () => {
  const layouts = await A.evaluate(() => rs.getLayouts());
  assert(layouts.layouts.includes('2x2'), `layouts: ${JSON.stringify(layouts)}`);
  await A.evaluate(() => rs.setLayout({ name: '2x2' }));
  const ev = await B.evaluate(() => waitFor(() => log.find((l) => l[0] === 'layout' && l[1] === '2x2')));
  assert(ev[2] >= 1, `layout layers: ${JSON.stringify(ev)}`);
  await A.evaluate(() => rs.setMeta({ topic: 'standup' }));
  const up = await B.evaluate(() => waitFor(() => log.find((l) => l[0] === 'room.updated' && l[1] && l[1].topic)));
  assert(up[1].topic === 'standup', 'room.updated meta');
  const meta = await B.evaluate(() => rs.getMeta());
  assert(meta.meta.topic === 'standup', `getMeta: ${JSON.stringify(meta)}`);
});

await check('RoomSession: leave stops local tracks and no listener fires afterwards', async () => {
  const r = await B.evaluate(async () => {
    const mic = rs.localAudioTrack;
    await rs.leave();
    const n = log.length;
    return { state: mic.readyState, n };
  });
  assert(r.state === 'ended', 'microphone stopped');
  await A.evaluate(() => rs.setMeta({ topic: 'after' }));
  await sleep(1000);
  const n2 = await B.evaluate(() => log.length);
  assert(n2 === r.n, 'no event after leave');
  await A.evaluate(() => rs.leave());
});

await check('RoomSession: stopCameraWhileMuted stops the camera on videoMute and re-acquires it on videoUnmute', async () => {
  const tokK = await token('stop', 'kim');
  const K = await page('K');
  const r = await K.evaluate(async (tok) => {
    window.rs = new api.RoomSession({ token: tok, host, stopCameraWhileMuted: true });
    await rs.join();
    const before = rs.localVideoTrack.readyState;
    await rs.videoMute();
    const muted = rs.localVideoTrack.readyState;
    await rs.videoUnmute();
    const after = [rs.localVideoTrack.readyState, rs.localVideoTrack.enabled];
    await rs.leave();
    return { before, muted, after };
  }, tokK);
  assert(r.before === 'live' && r.muted === 'ended' && r.after[0] === 'live' && r.after[1] === true, JSON.stringify(r));
  if (K.errors.length) throw new Error(K.errors.join('\n'));
});

await check('RoomSession: an audience member promoted by a moderator starts publishing', async () => {
  const tokM = await token('promote', 'mod');
  const tokL = await token('promote', 'lee', { role: 'audience' });
  const M = await page('M');
  const L = await page('L');
  await M.evaluate(async (tok) => {
    window.rs = new api.RoomSession({ token: tok, host });
    rs.on('member.joined', (e) => log.push(['joined', e.member.id]));
    await rs.join({ audio: false, video: false });
  }, tokM);
  const mode = await L.evaluate(async (tok) => {
    window.rs = new api.RoomSession({ token: tok, host });
    await rs.join();
    return [rs.interactivityMode, rs.localAudioTrack];
  }, tokL);
  assert(mode[0] === 'audience' && mode[1] === undefined, `audience: ${JSON.stringify(mode)}`);
  const lId = await L.evaluate(() => rs.memberId);
  await M.evaluate((lId) => rs.promote({ memberId: lId, mediaAllowed: 'all' }), lId);
  await M.evaluate((lId) => waitFor(() => log.find((l) => l[0] === 'joined' && l[1] === lId)), lId);
  const live = await L.evaluate(() => waitFor(() => rs.interactivityMode === 'member' && rs.localVideoTrack && rs.localVideoTrack.readyState));
  assert(live === 'live', 'promoted member publishes its camera');
  await M.evaluate(() => waitFor(() => rs.remoteStream && rs.remoteStream.getVideoTracks().length > 0));
  await L.evaluate(() => rs.leave());
  await M.evaluate(() => rs.leave());
  const errs = [...M.errors, ...L.errors];
  if (errs.length) throw new Error(errs.join('\n'));
});

// ------------------------------------------------------------------------------------------
// Room
// ------------------------------------------------------------------------------------------
const tokC = await token('room', 'carol');
const tokD = await token('room', 'dave');
const C = await page('C');
const D = await page('D');

await check('Room: connect, addStream → stream_published, addSubscription → media, sendMessage to one', async () => {
  await C.evaluate(async (tok) => {
    window.room = new api.Room({ clientToken: tok, host });
    room.on('participant_joined', (id, state) => log.push(['joined', id, state.status]));
    room.on('stream_published', (id, key) => log.push(['published', id, key]));
    room.on('subscription_started', (id, key) => log.push(['subscribed', id, key]));
    room.on('message_received', (from, msg, to) => log.push(['message', from, msg, to]));
    const off = room.on('state_changed', () => log.push(['state']));
    off();
    await room.connect();
    if (room.getState().status !== 'connected') throw new Error('status');
  }, tokC);
  await D.evaluate(async (tok) => {
    window.room = new api.Room({ clientToken: tok, host });
    room.on('message_received', (from, msg, to) => log.push(['message', from, msg, to]));
    await room.connect();
    const s = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    await room.addStream('main', { audio: s.getAudioTracks()[0], video: s.getVideoTracks()[0] });
  }, tokD);
  const dId = await D.evaluate(() => room.getState().localParticipantId);
  const local = await D.evaluate(() => Object.keys(room.getLocalStreams()));
  assert(local.includes('main'), `local streams: ${local}`);
  await C.evaluate((dId) => waitFor(() => log.find((l) => l[0] === 'published' && l[1] === dId && l[2] === 'main')), dId);
  await C.evaluate((dId) => room.addSubscription(dId, 'main', { audio: true, video: true }), dId);
  await C.evaluate((dId) => waitFor(() => log.find((l) => l[0] === 'subscribed' && l[1] === dId)), dId);
  const stream = await C.evaluate(
    (dId) =>
      waitFor(() => {
        const s = room.getParticipantStream(dId, 'main');
        return s && s.videoTrack && s.audioTrack && { key: s.key, enabled: s.isVideoEnabled };
      }),
    dId,
  );
  assert(stream.key === 'main' && stream.enabled, `stream: ${JSON.stringify(stream)}`);
  assert((await C.evaluate(() => log.filter((l) => l[0] === 'state').length)) === 0, 'unsubscribe function removed the listener');
  const cId = await C.evaluate(() => room.getState().localParticipantId);
  await C.evaluate((dId) => room.sendMessage({ type: 'text', payload: 'hi dave' }, [dId]), dId);
  const m = await D.evaluate(() => waitFor(() => log.find((l) => l[0] === 'message')));
  assert(m[1] === cId && m[2].payload === 'hi dave' && JSON.stringify(m[3]) === JSON.stringify([dId]), `message: ${JSON.stringify(m)}`);
  const err = await C.evaluate(() => room.sendMessage({ type: 'binary', payload: 'x' }).catch((e) => [e.name, e.code]));
  assert(JSON.stringify(err) === JSON.stringify(['InvalidParamsError', -32602]), `bad message: ${err}`);
  await C.evaluate(() => room.disconnect());
  await D.evaluate(() => room.disconnect());
});

// ------------------------------------------------------------------------------------------
// Call
// ------------------------------------------------------------------------------------------
const tokG = await token('call', 'gina');
const tokH = await token('call', 'hank');
const G = await page('G');
const H = await page('H');

await check('Call: create/join, user:join, getUsers with named tracks, muteTracks → track:mute', async () => {
  const channel = `api-call-${run}`;
  await G.evaluate(async ([tok, channel]) => {
    window.call = new api.Call({ token: tok, host });
    call.on('user:join', (e) => log.push(['user:join', e.userId]));
    const s = await navigator.mediaDevices.getUserMedia({ audio: true });
    const st = await call.create(channel, { mic: s.getAudioTracks()[0] });
    if (!st.ok || call.channel !== channel || call.status !== 'connected') throw new Error(JSON.stringify(st));
  }, [tokG, channel]);
  await H.evaluate(async ([tok, channel]) => {
    window.call = new api.Call({ token: tok, host });
    call.on('track:mute', (e) => log.push(['track:mute', e.userId, e.trackName, e.muted]));
    await call.join(channel);
    const wrong = await call.join('other-channel').catch((e) => e.name);
    if (wrong !== 'AccessTokenGrantsInvalidError') throw new Error(`wrong channel: ${wrong}`);
  }, [tokH, channel]);
  await G.evaluate(() => waitFor(() => log.find((l) => l[0] === 'user:join' && l[1] === 'hank')));
  const users = await H.evaluate(() => waitFor(async () => {
    const u = await call.getUsers();
    const gina = u.find((x) => x.id === 'gina');
    return gina && gina.tracks.mic && u;
  }));
  assert(users.length === 2, `users: ${JSON.stringify(users)}`);
  await G.evaluate(() => call.muteTracks('mic', true));
  const ev = await H.evaluate(() => waitFor(() => log.find((l) => l[0] === 'track:mute')));
  assert(ev[1] === 'gina' && ev[2] === 'mic' && ev[3] === true, `track:mute: ${JSON.stringify(ev)}`);
  await G.evaluate(() => call.leave());
  await H.evaluate(() => call.leave());
});

// ------------------------------------------------------------------------------------------
// connect()
// ------------------------------------------------------------------------------------------
const tokI = await token('video', 'ivy');
const tokJ = await token('video', 'jack');
const I = await page('I');
const J = await page('J');

await check('connect(): participantConnected, trackSubscribed with attachable video, data track messages over the data channel', async () => {
  await I.evaluate(async (tok) => {
    window.dt = new api.LocalDataTrack({ name: 'chat' });
    const tracks = await api.createLocalTracks({ audio: true, video: true });
    window.room = await api.connect(tok, { host, tracks: [...tracks, dt] });
    room.on('participantConnected', (p) => log.push(['connected', p.identity]));
  }, tokI);
  await J.evaluate(async (tok) => {
    window.room = await api.connect(tok, { host, audio: true, video: true });
    const show = (track, participant) => {
      log.push(['subscribed', track.kind, participant.identity]);
      if (track.kind === 'video' && !document.getElementById('remote-video')) {
        document.body.appendChild(track.attach()).id = 'remote-video';
      }
    };
    // Tracks subscribed while connecting are already on their publications (the documented
    // pattern); later ones arrive as trackSubscribed.
    room.participants.forEach((p) => p.tracks.forEach((pub) => pub.track && show(pub.track, p)));
    // The room's trackSubscribed listener gets (track, publication, participant).
    room.on('trackSubscribed', (track, _publication, participant) => show(track, participant));
    // Text stays a string, binary arrives as an ArrayBuffer (kept as its bytes here).
    const show_data = (d) => (typeof d === 'string' ? d : d instanceof ArrayBuffer ? ['bytes', ...new Uint8Array(d)] : ['other', String(d)]);
    room.on('trackMessage', (data, track, participant) => log.push(['message', show_data(data), track.name, participant.identity, track.kind]));
    window.show_data = show_data;
  }, tokJ);
  await I.evaluate(() => waitFor(() => log.find((l) => l[0] === 'connected' && l[1] === 'jack')));
  await J.evaluate(() => waitFor(() => log.find((l) => l[0] === 'subscribed' && l[1] === 'video' && l[2] === 'ivy')));
  const w = await J.evaluate(() => waitFor(() => document.getElementById('remote-video')?.videoWidth));
  assert(w > 0, 'remote video decodes');
  const ivy = await J.evaluate(() => [...room.participants.values()].map((p) => [p.identity, p.tracks.size]));
  assert(ivy.length === 1 && ivy[0][0] === 'ivy' && ivy[0][1] >= 2, `participants: ${JSON.stringify(ivy)}`);
  // The data track is published for real: jack sees it as a data publication of ivy.
  const dataPub = await J.evaluate(() =>
    waitFor(() => {
      const ivy = [...room.participants.values()][0];
      const p = ivy && [...ivy.dataTracks.values()][0];
      return p && [p.kind, p.trackName, p.trackSid];
    }),
  );
  assert(dataPub[0] === 'data' && dataPub[1] === 'chat' && dataPub[2].startsWith('tr_'), `data publication: ${JSON.stringify(dataPub)}`);
  assert(await I.evaluate(() => dt.reliable && dt.ordered && dt.maxRetransmits === null && typeof dt.sid === 'string'), 'dt is reliable and published');
  // Until the subscriber's data channel is open frames may be dropped: warm up until one arrives.
  await I.evaluate(() => {
    window.warm = setInterval(() => dt.send('warm-up'), 200);
  });
  await J.evaluate(() => waitFor(() => log.find((l) => l[0] === 'message' && l[1] === 'warm-up'), 20000));
  await I.evaluate(() => clearInterval(warm));
  // The publication carries the subscribed RemoteDataTrack, which emits `message` itself.
  const remote = await J.evaluate(() => {
    const p = [...[...room.participants.values()][0].dataTracks.values()][0];
    p.track.on('message', (data, t) => log.push(['track-message', show_data(data), t.name]));
    return [p.isSubscribed, p.track.kind, p.track.name, p.track.reliable, p.track.sid === p.trackSid];
  });
  assert(JSON.stringify(remote) === JSON.stringify([true, 'data', 'chat', true, true]), `RemoteDataTrack: ${JSON.stringify(remote)}`);
  await J.evaluate(() => new Promise((r) => setTimeout(r, 500)).then(() => { log = log.filter((l) => l[0] !== 'message' && l[0] !== 'track-message'); }));
  const statsOf = (P, which, label) =>
    P.evaluate(
      async ([which, label]) => {
        const reports = await room.getStats();
        // Summed over every channel of that label (the server may open its own as well).
        let out = null;
        reports[which].forEach((s) => {
          if (s.type === 'data-channel' && s.label === label) {
            out = out || { sent: 0, received: 0, channels: [] };
            out.sent += s.messagesSent;
            out.received += s.messagesReceived;
            out.channels.push([s.dataChannelIdentifier, s.state, s.messagesSent, s.messagesReceived]);
          }
        });
        return out;
      },
      [which, label],
    );
  const before = await statsOf(I, 0, 'ovsp-reliable');
  await I.evaluate(() => {
    dt.send('hello over data');
    dt.send(new Uint8Array([0, 1, 2, 255, 128]).buffer);
    const big = new Uint8Array([9, 9, 7, 0, 1, 9, 9]);
    dt.send(big.subarray(2, 5)); // an ArrayBufferView with an offset: exactly [7, 0, 1]
    dt.send('');
  });
  const ms = await J.evaluate(() => waitFor(() => log.filter((l) => l[0] === 'message').length >= 4 && log.filter((l) => l[0] === 'message')));
  const got = JSON.stringify(ms.map((m) => m[1]));
  assert(got === JSON.stringify(['hello over data', ['bytes', 0, 1, 2, 255, 128], ['bytes', 7, 0, 1], '']), `messages in order, text as text, binary as exact bytes: ${got}`);
  assert(ms.every((m) => m[2] === 'chat' && m[3] === 'ivy' && m[4] === 'data'), `trackMessage arguments: ${JSON.stringify(ms)}`);
  const tm = await J.evaluate(() => waitFor(() => log.filter((l) => l[0] === 'track-message').length >= 4 && log.filter((l) => l[0] === 'track-message')));
  assert(tm[0][1] === 'hello over data' && tm[0][2] === 'chat', `RemoteDataTrack message: ${JSON.stringify(tm[0])}`);
  // The bytes went over the SCTP data channels: ivy's publishing connection sent 4 more messages
  // on ovsp-reliable, and jack's subscribing connection received them.
  // (The browser updates these counters a moment after the fact: poll.)
  const poll = async (f) => {
    for (let i = 0; ; i++) {
      const v = await f();
      if (v.ok || i >= 50) return v;
      await sleep(200);
    }
  };
  const after = await poll(async () => {
    const a = await statsOf(I, 0, 'ovsp-reliable');
    return { ok: before && a && a.sent - before.sent >= 4, a };
  });
  assert(after.ok, `ovsp-reliable messagesSent ${JSON.stringify([before, after.a])}`);
  const recv = await poll(async () => {
    const r = await statsOf(J, 1, 'ovsp-reliable');
    return { ok: r && r.received >= 5, r };
  });
  assert(recv.ok, `jack's ovsp-reliable messagesReceived ${JSON.stringify(recv.r)}`);
  // An unordered track published later goes on ovsp-lossy.
  await I.evaluate(async () => {
    window.lossy = api.createLocalDataTrack({ name: 'cursor', ordered: false });
    await room.localParticipant.publishTrack(lossy);
    window.warm = setInterval(() => lossy.send('xy'), 200);
  });
  const lm = await J.evaluate(() => waitFor(() => log.find((l) => l[0] === 'message' && l[2] === 'cursor'), 20000));
  await I.evaluate(() => clearInterval(warm));
  assert(lm[1] === 'xy', `lossy message: ${JSON.stringify(lm)}`);
  const lossyStats = await poll(async () => {
    const l = await statsOf(I, 0, 'ovsp-lossy');
    return { ok: l && l.sent >= 1, l };
  });
  assert(lossyStats.ok && (await I.evaluate(() => lossy.reliable)) === false, `ovsp-lossy used: ${JSON.stringify(lossyStats.l)}`);
  // Bad arguments are typed errors.
  const errs = await I.evaluate(() => {
    const code = (f) => { try { f(); return null; } catch (e) { return [e.name, e.code]; } };
    return [
      code(() => dt.send(new Uint8Array(65536))),
      code(() => dt.send({})),
      code(() => new api.LocalDataTrack({ maxRetransmits: 1, maxPacketLifeTime: 1 })),
      code(() => api.createLocalDataTrack({ ordered: 'no' })),
      code(() => dt.send(new Uint8Array(65535))),
    ];
  });
  assert(errs.slice(0, 4).every((e) => e && e[1] === -32602) && errs[4] === null, `typed errors: ${JSON.stringify(errs)}`);
  await I.evaluate(() => room.disconnect());
  await J.evaluate(() => waitFor(() => room.participants.size === 0));
  await J.evaluate(() => room.disconnect());
});

await check('options: iceServers reach the RTCPeerConnection, logLevel governs the console', async () => {
  const K = await page('K');
  await K.evaluate(() => {
    // Record every peer connection the SDK creates, and every console write.
    const Orig = RTCPeerConnection;
    window.pcs = [];
    window.RTCPeerConnection = class extends Orig {
      constructor(cfg) {
        super(cfg);
        pcs.push(this);
      }
    };
    window.writes = [];
    for (const m of ['log', 'debug', 'info', 'warn', 'error', 'trace']) {
      const orig = console[m].bind(console);
      console[m] = (...a) => {
        writes.push([m, String(a[0])]);
        orig(...a);
      };
    }
  });
  const ice = [
    { urls: 'stun:127.0.0.1:3479' },
    { urls: ['turn:127.0.0.1:3479?transport=udp'], username: 'user', credential: 'secret' },
  ];
  const silent = await K.evaluate(
    async ([tok, ice]) => {
      window.room = await api.connect(tok, { host, tracks: [new api.LocalDataTrack()], iceServers: ice, logLevel: 'silent' });
      await waitFor(() => pcs.length > 0);
      const cfg = pcs[0].getConfiguration().iceServers.map((s) => [[].concat(s.urls), s.username || null, s.credential || null]);
      room.disconnect();
      await waitFor(() => room.state === 'disconnected');
      await new Promise((r) => setTimeout(r, 300));
      return { cfg, writes: writes.splice(0) };
    },
    [await token('opts', 'kim'), ice],
  );
  assert(
    JSON.stringify(silent.cfg) === JSON.stringify([[['stun:127.0.0.1:3479'], null, null], [['turn:127.0.0.1:3479?transport=udp'], 'user', 'secret']]),
    `RTCPeerConnection iceServers: ${JSON.stringify(silent.cfg)}`,
  );
  assert(silent.writes.length === 0, `logLevel silent writes nothing: ${JSON.stringify(silent.writes)}`);
  const debug = await K.evaluate(async (tok) => {
    window.room = await api.connect(tok, { host, tracks: [], logLevel: 'debug' });
    room.disconnect();
    await waitFor(() => room.state === 'disconnected');
    await new Promise((r) => setTimeout(r, 300));
    return writes.splice(0);
  }, await token('opts', 'kim2'));
  const kinds = new Set(debug.map((w) => w[1]));
  assert(kinds.has('convene: event') && kinds.has('convene: connection'), `logLevel debug writes events: ${JSON.stringify([...kinds])}`);
  assert(!kinds.has('convene: frame in') && !kinds.has('convene: frame out'), 'frames only at trace');
  const trace = await K.evaluate(async (tok) => {
    const rs = new api.RoomSession({ token: tok, host, logLevel: 'trace', audio: false, video: false });
    await rs.join();
    await rs.leave();
    return writes.splice(0).map((w) => w[1]);
  }, await token('opts', 'kim3'));
  assert(trace.includes('convene: frame out') && trace.includes('convene: frame in'), `logLevel trace writes frames: ${JSON.stringify([...new Set(trace)])}`);
  const bad = await K.evaluate(async (tok) => {
    const code = async (f) => { try { await f(); return null; } catch (e) { return [e.name, e.code, e.message]; } };
    return [
      await code(() => api.connect(tok, { host, logLevel: 'loud' })),
      await code(() => api.connect(tok, { host, iceServers: [{ urls: 'turn:127.0.0.1' }] })),
      await code(() => new api.RoomSession({ token: tok, host, iceServers: [{ urls: 'http://x' }] })),
      await code(() => new api.Room({ clientToken: tok, host, iceServers: 'stun:x' })),
      await code(() => new api.Call({ token: tok, host, logLevel: 5 })),
      // A listener's event name must be a string, on every facade.
      await code(() => new api.Room({ clientToken: tok, host }).on(1, () => {})),
      await code(() => new api.Call({ token: tok, host }).on(null, () => {})),
      await code(() => new api.RoomSession({ token: tok, host }).once(2, () => {})),
      await code(() => new api.RoomSession({ token: tok, host }).off({}, () => {})),
    ];
  }, await token('opts', 'kim4'));
  assert(bad.every((e) => e && e[1] === -32602), `bad options and listener arguments are typed errors: ${JSON.stringify(bad)}`);
  await K.context().close();
});

// ------------------------------------------------------------------------------------------
// Token expiry (last: it waits for a 60 s token)
// ------------------------------------------------------------------------------------------
await check('Room: an expiring client token disconnects with AccessTokenExpiredError; updateClientToken prevents it', async () => {
  const tokE = await token('expiry', 'erin', { ttl_s: 60 });
  const tokF = await token('expiry', 'fred', { ttl_s: 60 });
  const tokF2 = await token('expiry', 'fred');
  const E = await page('E');
  const F = await page('F');
  for (const [P, tok] of [[E, tokE], [F, tokF]]) {
    await P.evaluate(async (tok) => {
      window.room = new api.Room({ clientToken: tok, host });
      room.on('error', (e) => log.push(['error', e.name, e.code]));
      room.on('disconnected', (s) => log.push(['disconnected', s.status]));
      await room.connect();
    }, tok);
  }
  await F.evaluate((tok) => room.updateClientToken(tok), tokF2);
  const e = await E.evaluate(() => waitFor(() => log.find((l) => l[0] === 'error'), 75000));
  assert(e[1] === 'AccessTokenExpiredError' && e[2] === 20104, `expiry error: ${JSON.stringify(e)}`);
  await E.evaluate(() => waitFor(() => log.find((l) => l[0] === 'disconnected')));
  await sleep(3000);
  const f = await F.evaluate(() => ({ log, status: room.getState().status }));
  assert(f.log.length === 0 && f.status === 'connected', `refreshed room stays connected: ${JSON.stringify(f)}`);
  await F.evaluate(() => room.disconnect());
});

await check('no page errors', async () => {
  const errs = [A, B, C, D, G, H, I, J].flatMap((p) => p.errors);
  assert(errs.length === 0, errs.join('\n'));
});

await browser.close();
web.close();
await server.stop();
const passed = results.filter((r) => r[1]).length;
const failed = results.length - passed;
console.log(`TIER-COUNT ${passed} ${failed}`);
process.exit(failed ? 1 : 0);
