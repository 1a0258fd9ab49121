// Browser media tests: real Chromium pages (fake camera and microphone) join one room of
// `convene-server --dev` through OVSP with plain browser WebRTC (tests/media/ovsp-client.js).
//
//   node tests/media/run.mjs            functional checks (the test tier)
//   node tests/media/run.mjs --measure  join-to-first-frame and server CPU/memory figures
//
// Prints `TIER-COUNT <passed> <failed>` and exits non-zero on any failure.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, ROOT } from '../../scripts/lib/chromium.mjs';
import { serve } from '../../scripts/lib/static-server.mjs';
import { check, finish, fromMember, participant, server as serverUnderTest, sleep, until } from './lib.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));

async function functional(browser, pageUrl, server) {
  const room = `media-${Date.now()}`;
  const a = await participant(browser, pageUrl, server, room, 'alice');
  const b = await participant(browser, pageUrl, server, room, 'bob');
  const aid = a.self.id;
  const bid = b.self.id;

  // Each page receives the other's audio and video: bytes grow, frames decode.
  const flowing = async (p, other) => {
    const m = await fromMember(p, other);
    return m.audio && m.video && m.audio.bytes > 0 && m.video.bytes > 0 && m.video.frames > 0 ? m : null;
  };
  const aGot = await until(20000, () => flowing(a, bid));
  const bGot = await until(20000, () => flowing(b, aid));
  check('alice receives bob audio+video (framesDecoded > 0)', aGot, JSON.stringify(aGot));
  check('bob receives alice audio+video (framesDecoded > 0)', bGot, JSON.stringify(bGot));
  if (!aGot || !bGot) {
    console.log('alice log', await a.log(), a.errors);
    console.log('bob log', await b.log(), b.errors);
    return;
  }
  const before = await fromMember(b, aid);
  await sleep(1500);
  const after = await fromMember(b, aid);
  check(
    'inbound audio and video bytes keep growing',
    after.audio.bytes > before.audio.bytes && after.video.bytes > before.video.bytes && after.video.frames > before.video.frames,
    `audio ${before.audio.bytes}→${after.audio.bytes}, video ${before.video.bytes}→${after.video.bytes}, frames ${before.video.frames}→${after.video.frames}`,
  );

  // Talking detection from the audio level header extension of Chromium's (beeping) fake mic.
  const talkEvents = (p) => p.page.evaluate(() => window.room.events.filter((e) => e.type === 'member.talking' || e.type === 'room.speakers'));
  // Edge-triggered: a member who was already talking when bob joined shows it in bob's snapshot.
  const talkingInSnapshot = await b.page.evaluate((id) => window.room.members.get(id)?.talking === true, aid);
  const aliceTalks = await until(6000, async () =>
    talkingInSnapshot ||
    (await talkEvents(b)).some((e) => e.type === 'member.talking' && e.data.member_id === aid && e.data.talking === true));
  check('alice talks (beeping fake microphone): snapshot or member.talking', aliceTalks, talkingInSnapshot ? 'from the snapshot' : 'from member.talking');
  if (!aliceTalks) console.log('talking events so far:', JSON.stringify(await talkEvents(b)).slice(0, 2000));

  // A moderator (bob) blocks alice's microphone: it stops at bob within 1 s.
  const pageT0 = await b.page.evaluate(() => performance.now());
  const t0 = Date.now();
  await b.request('member.audio_mute', { member_id: aid });
  let lastBytes = (await fromMember(b, aid)).audio?.bytes ?? 0;
  let lastGrowth = t0;
  while (Date.now() - t0 < 2500) {
    await sleep(50);
    const s = await fromMember(b, aid);
    const bytes = s.audio ? s.audio.bytes : lastBytes;
    if (bytes > lastBytes) lastGrowth = Date.now();
    lastBytes = bytes;
  }
  const stopMs = lastGrowth - t0;
  check('a moderator block stops the audio at the other page within 1 s', stopMs <= 1000, `last audio byte ${stopMs} ms after the block`);
  const aliceEdges = async () =>
    (await talkEvents(b)).filter((e) => e.type === 'member.talking' && e.data.member_id === aid);
  const stateAt = (edges, t) => {
    const last = edges.filter((e) => e.at <= t).pop();
    return last ? last.data.talking : false;
  };
  const edgesBlocked = await aliceEdges();
  const risesWhileBlocked = edgesBlocked.filter((e) => e.data.talking && e.at > pageT0 && e.at <= pageT0 + 2500).length;
  check(
    'a blocked microphone stops talking within 1 s and never talks while blocked',
    stateAt(edgesBlocked, pageT0 + 1000) === false && risesWhileBlocked === 0,
    `talking at block+1s: ${stateAt(edgesBlocked, pageT0 + 1000)}, rises while blocked: ${risesWhileBlocked}`,
  );
  const vid = await fromMember(b, aid);
  await sleep(700);
  const vid2 = await fromMember(b, aid);
  check('the blocked member keeps sending video', vid2.video && vid.video && vid2.video.bytes > vid.video.bytes);

  const pageT1 = await b.page.evaluate(() => performance.now());
  await b.request('member.audio_unmute', { member_id: aid });
  const resumed = await until(3000, async () => {
    const s = await fromMember(b, aid);
    return s.audio && s.audio.bytes > lastBytes ? s : null;
  });
  check('clearing the block lets the audio through again', resumed);
  const talksAgain = await until(4000, async () => (await aliceEdges()).some((e) => e.data.talking && e.at > pageT1));
  check('talking is detected again once the block is cleared', talksAgain);

  // member.talking is edge-triggered; room.speakers comes at most 5 times a second.
  const all = await talkEvents(b);
  const byMember = {};
  let repeated = 0;
  for (const e of all.filter((x) => x.type === 'member.talking')) {
    if (byMember[e.data.member_id] === e.data.talking) repeated += 1;
    byMember[e.data.member_id] = e.data.talking;
  }
  check('member.talking is edge-triggered (no repeated state)', repeated === 0, `${repeated} repeats`);
  const speakers = all.filter((x) => x.type === 'room.speakers').map((x) => x.at);
  let maxPerSecond = 0;
  for (let i = 0; i < speakers.length; i++) {
    maxPerSecond = Math.max(maxPerSecond, speakers.filter((t) => t >= speakers[i] && t < speakers[i] + 1000).length);
  }
  check('room.speakers at most 5 per second', speakers.length > 0 && maxPerSecond <= 5, `${speakers.length} events, max ${maxPerSecond}/s`);

  // A data track: frames go to subscribers on ovsp-reliable, narrowed by the destination list.
  const dataTrack = await a.request('track.publish', { cid: 'c-data', kind: 'data', source: 'data', reliable: true });
  const handle = dataTrack.track.data_handle;
  await until(3000, async () => b.page.evaluate((h) => window.room.events.some((e) => e.type === 'track.published' && e.data.track.data_handle === h), handle));
  await sleep(300);
  await a.page.evaluate(([h, bobId]) => {
    window.room.sendData(h, 1, 'for bob', [bobId]);
    window.room.sendData(h, 2, 'for someone else', ['mem_nobody']);
    window.room.sendData(h, 3, 'for everyone');
  }, [handle, bid]);
  const frames = await until(3000, async () => {
    const got = await b.page.evaluate(() => window.room.dataReceived.map((d) => ({ label: d.label, bytes: [...d.bytes] })));
    return got.length >= 2 ? got : null;
  });
  await sleep(300);
  const got = await b.page.evaluate(() => window.room.dataReceived.map((d) => ({ label: d.label, bytes: [...d.bytes] })));
  const decoded = got.map((d) => ({
    label: d.label,
    version: d.bytes[0],
    flags: d.bytes[1],
    handle: (d.bytes[2] << 8) | d.bytes[3],
    seq: ((d.bytes[4] << 24) | (d.bytes[5] << 16) | (d.bytes[6] << 8) | d.bytes[7]) >>> 0,
    text: new TextDecoder().decode(new Uint8Array(d.bytes.slice(8))),
  }));
  check(
    'data-track frames reach the subscriber, filtered by destination, without the list',
    frames && decoded.length === 2 && decoded.every((f) => f.label === 'ovsp-reliable' && f.version === 1 && f.flags === 0 && f.handle === handle) &&
      decoded[0].text === 'for bob' && decoded[1].text === 'for everyone' && decoded[1].seq === 3,
    JSON.stringify(decoded),
  );

  // A publisher that offers only H.264 constrained baseline: its video decodes at bob as H.264.
  const c = await participant(b.page.context().browser(), pageUrl, server, room, 'carol', { audio: false, videoCodec: 'H264' });
  const h264 = await until(15000, async () => {
    const v = (await fromMember(b, c.self.id)).video;
    return v && v.frames > 0 ? v : null;
  });
  check('an H.264-only publisher reaches the other page as H.264 and decodes', h264 && h264.codec === 'video/H264', JSON.stringify(h264));
  await c.page.evaluate(() => window.room.leave());
  await c.close();

  // ICE restarts and PC resets keep (or bring back) the media.
  const videoGrows = async (label, ms = 5000) => {
    const start = (await fromMember(b, aid)).video?.frames ?? 0;
    const ok = await until(ms, async () => {
      const v = (await fromMember(b, aid)).video;
      return v && v.frames > start + 5 ? v : null;
    });
    check(label, ok, ok ? `${start} → ${ok.frames} frames` : `stuck at ${start}`);
  };
  await b.request('sub.ice_restart', {});
  const restartOffer = await until(3000, () =>
    b.page.evaluate(() => window.room.events.some((e) => e.type === 'sub.offer' && e.data.ice_restart)));
  check('sub.ice_restart brings a sub.offer with ice_restart', restartOffer);
  await videoGrows('video keeps flowing after the sub ICE restart');
  await a.page.evaluate(() => window.room.pubIceRestart());
  await videoGrows('video keeps flowing after the pub ICE restart');
  await b.request('sub.reset', {});
  // Count frames on the new sub PC only: wait for the reset offer to be applied.
  await until(3000, () => b.page.evaluate(() => window.room.events.some((e) => e.type === 'sub.offer' && e.data.reset)));
  await sleep(300);
  await videoGrows('video comes back on a new sub PC after sub.reset');
  await a.page.evaluate(() => window.room.pubReset());
  await videoGrows('video comes back from a new pub PC after pub.reset');

  // Alice leaves: her tracks disappear at bob within 1 s.
  const t1 = Date.now();
  await a.page.evaluate(() => window.room.leave());
  const gone = await until(3000, async () => {
    const m = await fromMember(b, aid);
    return Object.keys(m).length === 0 ? Date.now() : 0;
  }, 25);
  check('a leave removes the tracks at the other page within 1 s', gone && gone - t1 <= 1000, gone ? `${gone - t1} ms` : 'never');
  const remain = await b.page.evaluate(
    (id) => window.room.events.filter((e) => e.type === 'track.unpublished' && e.data.member_id === id).length,
    aid,
  );
  check('the other page got track.unpublished for each of alice\'s tracks (mic, camera, data)', remain === 3, `${remain} events`);
  check('no page errors', a.errors.length + b.errors.length === 0, [...a.errors, ...b.errors].join('; '));
  await a.close();
  await b.close();
}

function procStat(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { ticks, rssKb };
}

async function cpuOver(pid, ms) {
  const a = procStat(pid);
  const t = Date.now();
  await sleep(ms);
  const b = procStat(pid);
  const secs = (Date.now() - t) / 1000;
  return { cpuPercent: +(((b.ticks - a.ticks) / 100 / secs) * 100).toFixed(1), rssMb: +(b.rssKb / 1024).toFixed(1) };
}

/** Total bytes received by the pages' sub PCs. */
async function rxBytes(pages) {
  let sum = 0;
  for (const p of pages) for (const s of Object.values(await p.inbound())) sum += s.bytes;
  return sum;
}

/** CPU and memory of the server over `ms`, plus the pages' aggregate receive rate. */
async function loadFigures(pid, pages, ms) {
  const b0 = await rxBytes(pages);
  const t0 = Date.now();
  const usage = await cpuOver(pid, ms);
  const b1 = await rxBytes(pages);
  return { ...usage, rxKbpsAllPages: Math.round(((b1 - b0) * 8) / (Date.now() - t0)) };
}

async function measure(browser, pageUrl, server) {
  const figures = {};
  // Join to first decoded remote frame, median of 10.
  {
    const room = `ff-${Date.now()}`;
    const pub = await participant(browser, pageUrl, server, room, 'publisher');
    const times = [];
    const breakdowns = [];
    for (let i = 0; i < 10; i++) {
      // The viewer's page is loaded first; the clock starts when join() starts.
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(pageUrl);
      await page.waitForFunction(() => window.ready === true);
      const token = await server.token(room, `viewer${i}`);
      const marks = await page.evaluate(
        async ([ws, tok, pubId]) => {
          window.room = new window.OvspRoom(ws, tok);
          await window.room.join({ audio: false, video: false });
          await window.room.firstFrame(pubId);
          return window.room.marks;
        },
        [server.ws, token, pub.self.id],
      );
      if (marks.first_frame != null) times.push(marks.first_frame);
      breakdowns.push(marks);
      await context.close();
    }
    figures.join_breakdown_ms = breakdowns;
    times.sort((x, y) => x - y);
    figures.join_to_first_frame_ms = { runs: times, median: times.length ? times[Math.floor((times.length - 1) / 2)] : null };
    console.log('join → first decoded frame (ms):', JSON.stringify(figures.join_to_first_frame_ms));
    console.log('milestones (ms since join start):', JSON.stringify(breakdowns));
    await pub.close();
  }
  // Server CPU and memory: one publisher and N subscribers.
  const loads = process.argv.includes('--first-frame') ? [] : [2, 4, 8];
  for (const n of loads) {
    const room = `load${n}-${Date.now()}`;
    const pub = await participant(browser, pageUrl, server, room, 'publisher');
    const subs = [];
    for (let i = 0; i < n; i++) subs.push(await participant(browser, pageUrl, server, room, `sub${i}`, { audio: false, video: false }));
    const ready = await until(30000, async () => {
      for (const s of subs) {
        const m = await fromMember(s, pub.self.id);
        if (!(m.video && m.video.frames > 0)) return false;
      }
      return true;
    }, 250);
    const usage = await loadFigures(server.pid, subs, 10000);
    figures[`pub1_sub${n}`] = { ...usage, all_receiving: !!ready };
    console.log(`1 publisher + ${n} subscribers:`, JSON.stringify(figures[`pub1_sub${n}`]));
    for (const s of subs) await s.close();
    await pub.close();
    await sleep(1000);
  }
  if (loads.length) {
    const room = `all4-${Date.now()}`;
    const pages = [];
    for (let i = 0; i < 4; i++) pages.push(await participant(browser, pageUrl, server, room, `p${i}`));
    const ready = await until(30000, async () => {
      for (const p of pages) {
        const n = Object.values(await p.inbound()).filter((s) => s.kind === 'video' && s.frames > 0).length;
        if (n < 3) return false;
      }
      return true;
    }, 250);
    const usage = await loadFigures(server.pid, pages, 10000);
    figures.all4_publishing = { ...usage, all_receiving: !!ready };
    console.log('4 pages all publishing:', JSON.stringify(figures.all4_publishing));
    for (const p of pages) await p.close();
  }
  const idle = procStat(server.pid);
  figures.server_rss_mb_after = +(idle.rssKb / 1024).toFixed(1);
  const out = join(ROOT, 'test-results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'media-measure.json'), JSON.stringify(figures, null, 2));
  console.log(JSON.stringify(figures, null, 2));
  check('measurements completed', figures.join_to_first_frame_ms.median !== null);
}

async function main() {
  const server = await serverUnderTest();
  const site = await serve({ mounts: { '/': HERE } });
  const pageUrl = `${site.url.replace(/\/$/, '')}/room.html`;
  const browser = await launchChromium();
  try {
    if (process.argv.includes('--measure')) await measure(browser, pageUrl, server);
    else await functional(browser, pageUrl, server);
  } catch (e) {
    check('run without exceptions', false, e && e.stack ? e.stack : String(e));
    console.log(server.output.join('').slice(-4000));
  } finally {
    await browser.close();
    await site.close();
    server.stop();
  }
  finish();
}

main();
