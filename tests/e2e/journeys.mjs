// The user journeys: each runs two or three participants through the demo
// page against a real convene-server, in real Chromium with fake media.

import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  ROOT, events, inboundGrowth, joinRoom, liveRemoteVideos, screenshot, sleep, waitFor, waitForMedia,
} from './harness.mjs';

function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

/** Wait until `p` lists exactly the given members (by name). */
function waitForMembers(p, names, opts = {}) {
  return waitFor(
    p,
    (want) => {
      const have = [...document.querySelectorAll('#member-list li[data-member-id]')].map((li) => li.dataset.memberName).sort();
      return JSON.stringify(have) === JSON.stringify([...want].sort());
    },
    names,
    { what: `member list = ${names.join(', ')}`, ...opts },
  );
}

/** Wait until member `name`'s row on page `p` has data attribute `attr` equal to `value`. */
function waitForMemberAttr(p, name, attr, value, opts = {}) {
  return waitFor(
    p,
    ([n, a, v]) => {
      const li = document.querySelector(`#member-list li[data-member-name="${CSS.escape(n)}"]`);
      return li && li.dataset[a] === v;
    },
    [name, attr, value],
    { what: `${name}.${attr} = ${value}`, ...opts },
  );
}

/** Click a moderator action button on `target`'s row on page `p`. */
async function moderate(p, target, action) {
  const sel = `#member-list li[data-member-name="${target}"] button[data-action="${action}"]`;
  await p.page.waitForSelector(sel, { timeout: 10000 });
  await p.page.click(sel);
}

/** Wait until `p` shows at least `n` remote videos with decoded pictures. */
function waitForVideos(p, n, opts = {}) {
  return waitFor(
    p,
    (want) => window.__e2e.remoteVideos() >= want,
    n,
    { what: `${n} remote video(s) with videoWidth > 0`, timeout: 25000, ...opts },
  );
}

async function sendChat(p, text, toName) {
  const { page } = p;
  if (toName) {
    const value = await waitFor(
      p,
      (n) => [...document.querySelectorAll('#chat-to option')].find((o) => o.textContent === n && !o.disabled)?.value,
      toName,
      { what: `${toName} to be addressable in chat` },
    );
    await page.selectOption('#chat-to', value);
  } else {
    await page.selectOption('#chat-to', '');
  }
  await page.fill('#chat-input', text);
  await page.click('#chat-send');
  await waitFor(p, () => document.getElementById('chat-input').value === '', undefined, { what: 'the message to be sent' });
}

function chatTexts(p) {
  return p.page.evaluate(() => [...document.querySelectorAll('#chat-log li')].map((li) => li.querySelector('.text').textContent.trim()));
}

export const JOURNEYS = [
  {
    id: 1,
    name: 'join, see and hear each other (2 then 3 people)',
    people: ['Alice', 'Bob', 'Carol'],
    async run({ people: [a, b, c], room }) {
      await joinRoom(a, room, { moderator: true });
      await joinRoom(b, room);
      await waitForMembers(a, ['Alice', 'Bob']);
      await waitForMembers(b, ['Alice', 'Bob']);
      for (const p of [a, b]) {
        await waitForVideos(p, 1, { watch: [a, b] });
        await waitForMedia(p, { audio: 1, video: 1, watch: [a, b] });
      }
      await waitFor(a, () => Number(document.getElementById('net-quality').dataset.level) >= 2, undefined, { what: 'a network quality reading', watch: [a, b] });
      await screenshot(a, 'demo-2-people.png');
      await joinRoom(c, room);
      for (const p of [a, b, c]) await waitForMembers(p, ['Alice', 'Bob', 'Carol']);
      for (const p of [a, b, c]) {
        await waitForVideos(p, 2, { watch: [a, b, c] });
        const g = await waitForMedia(p, { audio: 2, video: 2, watch: [a, b, c] });
        assert(g.audioBytes > 0 && g.videoBytes > 0, `${p.name} inbound bytes grow`);
      }
      await sendChat(b, 'Hi all, can you hear me?');
      await waitFor(a, () => document.querySelectorAll('#chat-log li').length > 0, undefined, { what: "Bob's greeting" });
      await sleep(500);
      const shot = await screenshot(a, 'demo-3-people.png');
      if (process.env.E2E_UPDATE_DOCS) {
        mkdirSync(join(ROOT, 'docs'), { recursive: true });
        copyFileSync(shot, join(ROOT, 'docs', 'demo-3-people.png'));
      }
      // A narrow window: everything stacks, nothing overflows sideways, the call goes on.
      await c.page.setViewportSize({ width: 390, height: 844 });
      await sleep(300);
      const overflow = await c.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert(overflow <= 0, `no horizontal overflow at 390 px (${overflow} px)`);
      assert(await c.page.isVisible('#btn-leave') && await c.page.isVisible('#member-list'), 'controls and members visible at 390 px');
      await c.page.screenshot({ path: join(ROOT, 'tests', 'e2e', 'output', 'demo-narrow.png'), fullPage: true });
      await waitForVideos(c, 2, { watch: [a, b, c] });
    },
  },
  {
    id: 2,
    name: 'a moderator mutes a member: every page hears of it, the audio stops',
    people: ['Mod', 'Bob', 'Carol'],
    async run({ people: [m, b, c], room }) {
      await joinRoom(m, room, { moderator: true });
      await joinRoom(b, room);
      await joinRoom(c, room);
      const before = {};
      for (const p of [m, c]) before[p.name] = (await waitForMedia(p, { audio: 2, watch: [m, b, c] })).audio;
      await moderate(m, 'Bob', 'audio-mute');
      for (const p of [m, b, c]) {
        await waitForMemberAttr(p, 'Bob', 'audioMuted', 'true');
        const evs = await events(p, 'member.updated');
        assert(evs.some((e) => JSON.stringify(e.data).includes(b.memberId)), `${p.name} got member.updated for Bob`);
      }
      // Bob's audio no longer reaches the others, while the other member's audio still does.
      for (const p of [m, c]) {
        const deadline = Date.now() + 10000;
        let g;
        do {
          g = await inboundGrowth(p, 1500);
        } while (!(g.audio > 0 && g.audio < before[p.name]) && Date.now() < deadline);
        assert(g.audio > 0 && g.audio < before[p.name],
          `${p.name}: fewer audio streams flow after the mute, but not none (before ${before[p.name]}, after ${g.audio})`);
      }
    },
  },
  {
    id: 3,
    name: 'remove: the target is told it was removed, the others see it leave',
    people: ['Mod', 'Bob', 'Carol'],
    async run({ people: [m, b, c], room }) {
      await joinRoom(m, room, { moderator: true });
      await joinRoom(b, room);
      await joinRoom(c, room);
      for (const p of [m, b, c]) await waitForMembers(p, ['Mod', 'Bob', 'Carol']);
      await moderate(m, 'Bob', 'remove');
      await waitFor(b, () => {
        const n = document.getElementById('notice');
        return !n.classList.contains('hidden') && /removed|kicked/.test(n.dataset.reason || '');
      }, undefined, { what: 'the removed notice' });
      await waitFor(b, () => !document.getElementById('join-view').classList.contains('hidden'), undefined, { what: 'the join form again' });
      // The RoomSession tells of the removal as room.left{reason} or as the disconnected
      // connection state carrying error 54104 (RemovedFromRoomError).
      const told = await b.page.evaluate(() => window.__demo.events.filter((e) =>
        (e.name === 'room.left' && /removed|kicked/.test(e.data && e.data.reason))
        || (/^(call|connection)\.state$/.test(e.name) && e.data && e.data.error && e.data.error.code === 54104)));
      assert(told.length > 0, 'Bob got an event saying he was removed (54104)');
      for (const p of [m, c]) {
        await waitForMembers(p, ['Mod', 'Carol']);
        const left = await events(p, 'member.left');
        assert(left.some((e) => JSON.stringify(e.data).includes(b.memberId)), `${p.name} got member.left for Bob`);
      }
    },
  },
  {
    id: 4,
    name: 'lock: a new join is refused with 54103',
    people: ['Mod', 'Bob', 'Late'],
    async run({ people: [m, b, late], room }) {
      await joinRoom(m, room, { moderator: true });
      await joinRoom(b, room);
      await m.page.click('#btn-lock');
      for (const p of [m, b]) {
        await waitFor(p, () => !document.getElementById('lock-badge').classList.contains('hidden'), undefined, { what: 'the lock badge' });
      }
      const res = await joinRoom(late, room, { expectError: true });
      assert(res.error === '54103', `join refused with 54103 (got ${JSON.stringify(res)})`);
      assert(await late.page.isVisible('#join-view'), 'the refused page stays on the join form');
      await m.page.click('#btn-lock');
      await waitFor(m, () => document.getElementById('lock-badge').classList.contains('hidden'), undefined, { what: 'the room to unlock' });
      await joinRoom(late, room);
      await waitForMembers(m, ['Mod', 'Bob', 'Late']);
    },
  },
  {
    id: 5,
    name: 'chat to one member reaches only that member',
    people: ['Alice', 'Bob', 'Carol'],
    async run({ people: [a, b, c], room }) {
      for (const p of [a, b, c]) await joinRoom(p, room);
      for (const p of [a, b, c]) await waitForMembers(p, ['Alice', 'Bob', 'Carol']);
      await sendChat(a, 'psst, only for Bob', 'Bob');
      await sendChat(a, 'hello everyone');
      for (const p of [b, c]) {
        await waitFor(p, () => [...document.querySelectorAll('#chat-log .text')].some((t) => t.textContent.includes('hello everyone')), undefined, { what: 'the broadcast message' });
      }
      const bt = await chatTexts(b);
      const ct = await chatTexts(c);
      assert(bt.includes('psst, only for Bob'), `Bob got the private message (${JSON.stringify(bt)})`);
      assert(bt.indexOf('psst, only for Bob') < bt.indexOf('hello everyone'), 'in order');
      assert(!ct.some((t) => t.includes('psst')), `Carol did not get it (${JSON.stringify(ct)})`);
      const priv = await b.page.evaluate(() => document.querySelector('#chat-log li[data-private="true"]')?.dataset.from);
      assert(priv === a.memberId, 'the private message is marked private and comes from Alice');
    },
  },
  {
    id: 6,
    name: 'a raised hand (and own mic and camera) shows on every page',
    people: ['Alice', 'Bob', 'Carol'],
    async run({ people: [a, b, c], room }) {
      for (const p of [a, b, c]) await joinRoom(p, room);
      for (const p of [a, b, c]) await waitForMembers(p, ['Alice', 'Bob', 'Carol']);
      await b.page.click('#btn-hand');
      for (const p of [a, b, c]) await waitForMemberAttr(p, 'Bob', 'handraised', 'true');
      await b.page.click('#btn-hand');
      for (const p of [a, b, c]) await waitForMemberAttr(p, 'Bob', 'handraised', 'false');
      for (const [button, attr] of [['#btn-mic', 'audioMuted'], ['#btn-cam', 'videoMuted']]) {
        await b.page.click(button);
        for (const p of [a, b, c]) await waitForMemberAttr(p, 'Bob', attr, 'true');
        await b.page.click(button);
        for (const p of [a, b, c]) await waitForMemberAttr(p, 'Bob', attr, 'false');
      }
    },
  },
  {
    id: 7,
    name: 'a screen share appears as another video at the others',
    people: ['Alice', 'Bob'],
    async run({ people: [a, b], room }) {
      await joinRoom(a, room);
      await joinRoom(b, room);
      await waitForVideos(b, 1, { watch: [a, b] });
      await waitForMedia(b, { video: 1, watch: [a, b] });
      await a.page.click('#btn-share');
      await waitFor(a, () => document.getElementById('btn-share').getAttribute('aria-pressed') === 'true', undefined, { what: 'sharing to start', watch: [a, b] });
      await waitForVideos(b, 2, { watch: [a, b] });
      await waitForMedia(b, { video: 2, watch: [a, b] });
      await screenshot(b, 'demo-screen-share.png');
      await a.page.click('#btn-share');
      await waitFor(b, () => window.__e2e.remoteVideos() === 1, undefined, { what: 'the share to end', watch: [a, b] });
    },
  },
  {
    id: 8,
    name: 'switching camera and microphone keeps media flowing',
    people: ['Alice', 'Bob'],
    async run({ people: [a, b], room }) {
      await joinRoom(a, room);
      await joinRoom(b, room);
      await waitForMedia(b, { video: 1, watch: [a, b] });
      await a.page.click('#btn-devices');
      const cams = await a.page.evaluate(() => [...document.querySelectorAll('#sel-camera option')].map((o) => o.value));
      assert(cams.length >= 2, `two fake cameras (got ${cams.length})`);
      const before = await a.page.evaluate(() => document.getElementById('self-video').srcObject?.getVideoTracks()[0]?.getSettings().deviceId);
      // Chromium's second fake camera is a 16-bit depth camera that WebRTC cannot encode; the
      // harness asks for three and switches to the last one, an ordinary colour camera.
      const other = cams[cams.length - 1];
      assert(other !== before, 'the last camera is not the one in use');
      await a.page.selectOption('#sel-camera', other);
      await waitFor(a, (id) => document.getElementById('self-video').srcObject?.getVideoTracks()[0]?.getSettings().deviceId === id, other, { what: 'the self view to use the other camera', watch: [a, b] });
      for (let i = 0; i < 3; i++) {
        const g = await waitForMedia(b, { video: 1, watch: [a, b] });
        assert(g.videoFrames >= 1, 'frames keep decoding at Bob');
      }
      assert((await liveRemoteVideos(b)) >= 1, 'Bob still sees a picture');
      // The microphone picker switches too, and Bob keeps hearing Alice.
      const mics = await a.page.evaluate(() => [...document.querySelectorAll('#sel-mic option')].map((o) => o.value));
      assert(mics.length >= 2, 'two microphones to pick from');
      await a.page.selectOption('#sel-mic', mics[mics.length - 1]);
      await waitFor(a, (id) => window.__demo.session.localAudioTrack?.getSettings().deviceId === id, mics[mics.length - 1], { what: 'the other microphone in use', watch: [a, b] });
      assert(await a.page.isHidden('#error'), `no error after switching devices: ${await a.page.textContent('#error-text')}`);
      await waitForMedia(b, { audio: 1, video: 1, watch: [a, b] });
    },
  },
  {
    id: 9,
    name: 'leave: the others get the left events, nothing of the session remains',
    people: ['Alice', 'Bob', 'Carol'],
    async run({ people: [a, b, c], room }) {
      for (const p of [a, b, c]) await joinRoom(p, room);
      for (const p of [a, b, c]) await waitForMembers(p, ['Alice', 'Bob', 'Carol']);
      await waitForMedia(b, { audio: 2, video: 2, watch: [a, b, c] });
      await b.page.click('#btn-leave');
      await waitFor(b, () => !document.getElementById('join-view').classList.contains('hidden'), undefined, { what: 'the join form again' });
      for (const p of [a, c]) {
        await waitForMembers(p, ['Alice', 'Carol']);
        const left = await events(p, 'member.left');
        assert(left.some((e) => JSON.stringify(e.data).includes(b.memberId)), `${p.name} got member.left for Bob`);
      }
      const rest = await waitFor(b, () => {
        const l = window.__e2e.leftovers();
        return l.pcs === 0 && l.sockets === 0 && l.tracks.length === 0 && l.videos === 0 ? l : null;
      }, undefined, { what: 'no PeerConnection, socket, track or element left', timeout: 8000 });
      assert(rest, 'nothing remains');
      // The server agrees: Bob is not in the member list any more.
      const names = await a.page.evaluate(async () => (await window.__demo.session.getMembers()).members.map((m) => m.name));
      assert(!names.includes('Bob'), `the server's member list no longer has Bob (${JSON.stringify(names)})`);
      // Alice and Carol still see each other.
      await waitForMedia(a, { audio: 1, video: 1, watch: [a, c] });
    },
  },
  {
    id: 10,
    name: 'the WebSocket is cut mid-call: reconnecting, then connected; media and chat intact',
    people: ['Alice', 'Bob'],
    async run({ people: [a, b], room }) {
      await joinRoom(a, room);
      await joinRoom(b, room);
      await waitForMedia(b, { audio: 1, video: 1, watch: [a, b] });
      await b.page.evaluate(() => {
        window.__statusLog = [];
        const el = document.getElementById('conn-status');
        new MutationObserver(() => window.__statusLog.push(el.dataset.state)).observe(el, { attributes: true });
      });
      // Alice's member list should show Bob as reconnecting while he is away.
      await a.page.evaluate((bob) => {
        window.__bobStates = [];
        const list = document.getElementById('member-list');
        new MutationObserver(() => {
          const li = list.querySelector(`li[data-member-id="${bob}"]`);
          if (li) window.__bobStates.push(li.dataset.state);
        }).observe(list, { childList: true, subtree: true, attributes: true });
      }, b.memberId);
      await sendChat(a, 'before-0');
      const cut = await b.page.evaluate(() => window.__e2e.cutSockets());
      assert(cut >= 1, `the page's signaling sockets cut (got ${cut})`);
      // Messages sent while Bob is away must arrive exactly once, in order.
      for (let i = 1; i <= 5; i++) await sendChat(a, `during-${i}`);
      await waitFor(b, () => window.__statusLog.includes('reconnecting'), undefined, { what: 'the reconnecting state', watch: [a, b] });
      await waitFor(b, () => {
        const l = window.__statusLog;
        return l.lastIndexOf('connected') > l.indexOf('reconnecting');
      }, undefined, { what: 'connected again', timeout: 30000, watch: [a, b] });
      await sendChat(a, 'after-6');
      await sendChat(b, 'bob-is-back');
      await waitFor(b, () => [...document.querySelectorAll('#chat-log .text')].some((t) => t.textContent.includes('after-6')), undefined, { what: 'the message after the resume', watch: [a, b] });
      await waitFor(a, () => [...document.querySelectorAll('#chat-log .text')].some((t) => t.textContent.includes('bob-is-back')), undefined, { what: "Bob's message after the resume", watch: [a, b] });
      const got = (await chatTexts(b)).filter((t) => /^(before|during|after)-/.test(t));
      const want = ['before-0', 'during-1', 'during-2', 'during-3', 'during-4', 'during-5', 'after-6'];
      assert(JSON.stringify(got) === JSON.stringify(want), `every message exactly once, in order: ${JSON.stringify(got)}`);
      await waitForMedia(b, { audio: 1, video: 1, watch: [a, b] });
      await waitForMedia(a, { audio: 1, video: 1, watch: [a, b] });
      const states = await a.page.evaluate(() => window.__bobStates);
      assert(states.includes('reconnecting') && states[states.length - 1] === 'active',
        `Alice saw Bob reconnecting, then active again (${JSON.stringify([...new Set(states)])})`);
    },
  },
  {
    id: 11,
    name: "a moderator's room meta and layout reach every page",
    people: ['Mod', 'Bob'],
    async run({ people: [m, b], room }) {
      await joinRoom(m, room, { moderator: true });
      await joinRoom(b, room);
      await waitForVideos(b, 1, { watch: [m, b] });
      await m.page.fill('#meta-input', '{"topic": "weekly sync", "round": 1}');
      await m.page.click('#meta-update');
      for (const p of [m, b]) {
        await waitFor(p, () => document.getElementById('meta-view').textContent.includes('weekly sync'), undefined, { what: 'the room meta', watch: [m, b] });
      }
      await m.page.fill('#meta-input', '{"agenda": "demo"}');
      await m.page.click('#meta-set');
      await waitFor(b, () => {
        const t = document.getElementById('meta-view').textContent;
        return t.includes('agenda') && !t.includes('weekly sync');
      }, undefined, { what: 'the replaced room meta', watch: [m, b] });
      await m.page.selectOption('#sel-layout', '2x2');
      for (const p of [m, b]) {
        await waitFor(p, () => window.__demo.layoutName === '2x2' && document.getElementById('sel-layout').value === '2x2', undefined, { what: 'layout 2x2', watch: [m, b] });
        // The package follows the layout: in 2x2 every tile is a quarter of the root.
        await waitFor(p, () => {
          const v = [...document.querySelectorAll('#video-root video')].filter((x) => x.style.display !== 'none');
          return v.length >= 2 && v.every((x) => x.style.width.startsWith('50') && x.style.height.startsWith('50'));
        }, undefined, { what: 'tiles placed by the 2x2 layout', watch: [m, b] });
      }
    },
  },
  {
    id: 12,
    name: 'deaf: a deafened member receives no audio until undeafened',
    people: ['Mod', 'Bob', 'Carol'],
    async run({ people: [m, b, c], room }) {
      await joinRoom(m, room, { moderator: true });
      await joinRoom(b, room);
      await joinRoom(c, room);
      await waitForMedia(b, { audio: 2, video: 2, watch: [m, b, c] });
      await moderate(m, 'Bob', 'deaf');
      for (const p of [m, b, c]) await waitForMemberAttr(p, 'Bob', 'deaf', 'true');
      // No audio reaches Bob, video still does.
      await waitForMedia(b, { audio: 0, video: 2, exactAudio: true, watch: [m, b, c] });
      await moderate(m, 'Bob', 'undeaf');
      for (const p of [m, b, c]) await waitForMemberAttr(p, 'Bob', 'deaf', 'false');
      await waitForMedia(b, { audio: 2, video: 2, watch: [m, b, c] });
    },
  },
  {
    id: 13,
    name: 'audience watches unseen; a demoted member joins the audience',
    people: ['Mod', 'Bob', 'Viewer'],
    async run({ people: [m, b, v], room }) {
      await joinRoom(m, room, { moderator: true });
      await joinRoom(b, room);
      await joinRoom(v, room, { role: 'audience' });
      await waitForVideos(v, 2, { watch: [m, b, v] });
      await waitForMedia(v, { audio: 2, video: 2, watch: [m, b, v] });
      for (const p of [m, b]) await waitForMembers(p, ['Mod', 'Bob']);
      assert(await v.page.isDisabled('#btn-mic'), 'the audience page cannot publish');
      await moderate(m, 'Bob', 'demote');
      await waitForMembers(m, ['Mod']);
      await waitForMemberAttr(b, 'Bob', 'role', 'audience');
      // Bob no longer sends: Mod receives no media at all; Bob still watches Mod.
      await waitForMedia(m, { audio: 0, video: 0, exact: true, watch: [m, b, v] });
      await waitForMedia(b, { audio: 1, video: 1, watch: [m, b, v] });
    },
  },
  {
    id: 14,
    name: 'the speaker picker routes remote audio to another output',
    people: ['Alice', 'Bob'],
    async run({ people: [a, b], room }) {
      await joinRoom(a, room);
      await joinRoom(b, room);
      await waitForMedia(a, { audio: 1, video: 1, watch: [a, b] });
      await a.page.click('#btn-devices');
      const outs = await a.page.evaluate(() => [...document.querySelectorAll('#sel-speaker option')].map((o) => o.value));
      assert(outs.length >= 2, 'two audio outputs to pick from');
      const target = outs[outs.length - 1];
      await a.page.selectOption('#sel-speaker', target);
      await sleep(1000);
      assert(await a.page.isHidden('#error'), `no error after switching the speaker: ${await a.page.textContent('#error-text')}`);
      const sinks = await a.page.evaluate(() => window.__e2e.audioSinks());
      assert(sinks.length > 0 && sinks.every((id) => id === target), `every remote audio element plays on the chosen output (${JSON.stringify(sinks)})`);
      await waitForMedia(a, { audio: 1, video: 1, watch: [a, b] });
    },
  },
  {
    id: 15,
    name: 'an audience member asks to speak and a moderator promotes them',
    people: ['Mod', 'Bob', 'Viewer'],
    async run({ people: [m, b, v], room }) {
      await joinRoom(m, room, { moderator: true });
      await joinRoom(b, room);
      await joinRoom(v, room, { role: 'audience' });
      for (const p of [m, b]) await waitForMembers(p, ['Mod', 'Bob']);
      // joinRoom returns once the call view shows; the page renders its own controls after it
      // has loaded the members, layouts and devices.
      await waitFor(v, () => document.getElementById('btn-hand').textContent.includes('Ask to speak'), undefined, {
        what: 'the audience asks instead of raising a hand', watch: [m, b, v],
      });
      await v.page.click('#btn-hand');
      const sel = '#chat-log li button[data-action="promote"]';
      await waitFor(m, (q) => !!document.querySelector(q), sel, { what: 'the request with a Promote button', watch: [m, b, v] });
      assert(!(await b.page.$(sel)), 'members without the promote permission get no Promote button');
      await m.page.click(sel);
      for (const p of [m, b]) await waitForMembers(p, ['Mod', 'Bob', 'Viewer']);
      await waitForMemberAttr(v, 'Viewer', 'role', 'member');
      await waitFor(v, () => !document.getElementById('btn-mic').disabled, undefined, { what: 'own media controls enabled', watch: [m, b, v] });
      // The promoted member now publishes: the moderator receives Bob's and Viewer's video.
      await waitForMedia(m, { video: 2, watch: [m, b, v] });
    },
  },
];
