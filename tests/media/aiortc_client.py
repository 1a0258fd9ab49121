"""An independent OVSP v1 client on aiortc (Python WebRTC), written from docs/protocol.md.

It joins a room over the OVSP WebSocket, publishes a generated video track (a moving gradient)
and a generated audio track (a tone), auto-subscribes to everything else, decodes what it
receives, and prints one JSON summary line:

    {"self": "mem_…", "received": {"<track_id>": {"kind", "member_id", "frames"}}, "published": {...}}

Usage: aiortc_client.py --ws ws://127.0.0.1:PORT/ovsp --token JWT [--seconds 12]
"""

import argparse
import asyncio
import fractions
import json
import os
import math
import struct
import sys
import time

import aioice.ice
import av
import websockets
from aiortc import (
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.sdp import candidate_from_sdp

# Test clients use loopback only (aioice normally skips 127.0.0.1 and uses every other address).
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

VIDEO_CLOCK = 90000
AUDIO_RATE = 48000


class GradientTrack(MediaStreamTrack):
    """320x240 YUV frames at 15 fps whose luma pattern moves every frame."""

    kind = "video"

    def __init__(self):
        super().__init__()
        self.n = 0
        self.start = None

    async def recv(self):
        if self.start is None:
            self.start = time.time()
        self.n += 1
        target = self.start + self.n / 15
        await asyncio.sleep(max(0, target - time.time()))
        frame = av.VideoFrame(320, 240, "yuv420p")
        shift = (self.n * 4) % 256
        row = bytes((x + shift) % 256 for x in range(320))
        frame.planes[0].update(row * 240)
        frame.planes[1].update(bytes([90]) * frame.planes[1].buffer_size)
        frame.planes[2].update(bytes([170]) * frame.planes[2].buffer_size)
        frame.pts = int(self.n * VIDEO_CLOCK / 15)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        return frame


class ToneTrack(MediaStreamTrack):
    """A 440 Hz tone in 20 ms mono frames."""

    kind = "audio"

    def __init__(self):
        super().__init__()
        self.n = 0
        self.start = None

    async def recv(self):
        if self.start is None:
            self.start = time.time()
        self.n += 1
        target = self.start + self.n * 0.02
        await asyncio.sleep(max(0, target - time.time()))
        samples = 960
        frame = av.AudioFrame(format="s16", layout="mono", samples=samples)
        frame.sample_rate = AUDIO_RATE
        base = self.n * samples
        frame.planes[0].update(
            b"".join(
                struct.pack("<h", int(6000 * math.sin(2 * math.pi * 440 * (base + i) / AUDIO_RATE)))
                for i in range(samples)
            )
        )
        frame.pts = base
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        return frame


class Client:
    def __init__(self, url, token):
        self.url = url
        self.token = token
        self.next_id = 1
        self.pending = {}
        self.last_seq = 0
        self.sub_pc = None
        self.pub_pc = None
        self.sub_mids = {}
        self.received = {}
        self.consumers = []
        self.published = {}
        self.sub_lock = asyncio.Lock()
        self.errors = []
        self.tracks_seen = 0
        self.states = []

    async def request(self, method, params):
        rid = str(self.next_id)
        self.next_id += 1
        fut = asyncio.get_running_loop().create_future()
        self.pending[rid] = fut
        await self.ws.send(json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}))
        return await asyncio.wait_for(fut, 15)

    async def notify(self, method, params):
        await self.ws.send(json.dumps({"jsonrpc": "2.0", "method": method, "params": params}))

    async def reader(self):
        async for text in self.ws:
            try:
                msg = json.loads(text)
            except ValueError:
                continue
            if msg.get("id") is not None and ("result" in msg or "error" in msg):
                fut = self.pending.pop(msg["id"], None)
                if fut and not fut.done():
                    if "error" in msg:
                        fut.set_exception(RuntimeError(f"{msg['error'].get('code')}: {msg['error'].get('message')}"))
                    else:
                        fut.set_result(msg["result"])
            elif msg.get("method") == "event":
                ev = msg["params"]
                seq = ev.get("seq")
                if isinstance(seq, int):
                    if seq <= self.last_seq:
                        continue
                    self.last_seq = seq
                asyncio.ensure_future(self.on_event(ev.get("type"), ev.get("data") or {}))

    async def on_event(self, kind, data):
        try:
            if kind == "sub.offer":
                async with self.sub_lock:
                    await self.apply_sub_offer(data)
            elif kind == "ice.candidate" and data.get("candidate"):
                pc = self.pub_pc if data.get("pc") == "pub" else self.sub_pc
                if pc is not None:
                    line = data["candidate"]
                    if line.startswith("candidate:"):
                        line = line[len("candidate:"):]
                    cand = candidate_from_sdp(line)
                    cand.sdpMid = data.get("sdp_mid")
                    cand.sdpMLineIndex = data.get("sdp_m_line_index") or 0
                    await pc.addIceCandidate(cand)
        except Exception as e:  # noqa: BLE001 - report everything in the summary
            self.errors.append(f"{kind}: {e!r}")

    async def apply_sub_offer(self, data):
        if data.get("reset") and self.sub_pc is not None:
            await self.sub_pc.close()
            self.sub_pc = None
        if self.sub_pc is None:
            self.sub_pc = RTCPeerConnection(RTCConfiguration(iceServers=[], bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))

            @self.sub_pc.on("track")
            def on_track(track):
                self.tracks_seen += 1
                self.consumers.append(asyncio.ensure_future(self.consume(track)))

            @self.sub_pc.on("connectionstatechange")
            def on_state():
                self.states.append(f"sub {self.sub_pc.connectionState}")

        self.sub_mids = data.get("mids") or {}
        await self.sub_pc.setRemoteDescription(RTCSessionDescription(sdp=data["sdp"], type="offer"))
        answer = await self.sub_pc.createAnswer()
        await self.sub_pc.setLocalDescription(answer)
        await self.request("sub.answer", {"offer_id": data["offer_id"], "sdp": self.sub_pc.localDescription.sdp})

    def track_info(self, track):
        for t in self.sub_pc.getTransceivers():
            if t.receiver.track is track and t.mid is not None:
                return self.sub_mids.get(t.mid)
        return None

    async def consume(self, track):
        info = None
        while True:
            try:
                await track.recv()
            except Exception:  # noqa: BLE001 - the track ended
                return
            if info is None:
                info = self.track_info(track)
                if info is None:
                    continue
                self.received.setdefault(
                    info["track_id"], {"kind": info["kind"], "member_id": info["member_id"], "frames": 0}
                )
            self.received[info["track_id"]]["frames"] += 1

    async def publish(self):
        self.pub_pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.pub_pc.createDataChannel("ovsp-reliable")
        self.pub_pc.createDataChannel("ovsp-lossy", ordered=False, maxRetransmits=0)
        pairs = []
        for cid, kind, source, track in (
            ("py-mic", "audio", "microphone", ToneTrack()),
            ("py-cam", "video", "camera", GradientTrack()),
        ):
            res = await self.request("track.publish", {"cid": cid, "kind": kind, "source": source})
            self.published[cid] = res["track"]["id"]
            pairs.append((self.pub_pc.addTransceiver(track, direction="sendonly"), cid))
        offer = await self.pub_pc.createOffer()
        await self.pub_pc.setLocalDescription(offer)
        mids = {t.mid: cid for t, cid in pairs}
        res = await self.request(
            "pub.offer", {"offer_id": 1, "sdp": self.pub_pc.localDescription.sdp, "mids": mids}
        )
        await self.pub_pc.setRemoteDescription(RTCSessionDescription(sdp=res["sdp"], type="answer"))

    async def run(self, seconds):
        async with websockets.connect(self.url, subprotocols=["ovsp.v1"], max_size=2**20) as ws:
            self.ws = ws
            reader = asyncio.ensure_future(self.reader())
            await self.request(
                "session.connect",
                {
                    "protocol": {"major": 1, "minor": 0},
                    "token": self.token,
                    "client": {"sdk": "aiortc-test", "version": "0.1.0"},
                    "capabilities": [],
                },
            )
            snap = await self.request("room.join", {"auto_subscribe": True})
            self.self_id = snap["self"]["id"]
            await self.publish()
            end = time.time() + seconds
            while time.time() < end:
                await asyncio.sleep(1)
                await self.notify("session.ack", {"seq": self.last_seq})
            await self.request("room.leave", {})
            reader.cancel()
        for c in self.consumers:
            c.cancel()
        for pc in (self.pub_pc, self.sub_pc):
            if pc is not None:
                await pc.close()


async def main():
    if os.environ.get("AIORTC_DEBUG"):
        import logging

        logging.basicConfig(level=logging.DEBUG)
    ap = argparse.ArgumentParser()
    ap.add_argument("--ws", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--seconds", type=float, default=12)
    args = ap.parse_args()
    client = Client(args.ws, args.token)
    try:
        await client.run(args.seconds)
    except Exception as e:  # noqa: BLE001
        client.errors.append(repr(e))
    print(
        json.dumps(
            {
                "self": getattr(client, "self_id", None),
                "received": client.received,
                "published": client.published,
                "errors": client.errors,
                "debug": {
                    "tracks_seen": client.tracks_seen,
                    "states": client.states,
                    "sub_state": client.sub_pc.iceConnectionState if client.sub_pc else None,
                    "pub_state": client.pub_pc.iceConnectionState if client.pub_pc else None,
                    "sub_mids": client.sub_mids,
                },
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
