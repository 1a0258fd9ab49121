// Imports the package the way an application does and exercises what needs no server:
// initialisation, construction of each facade, and a typed error from bad arguments.
import init, { Call, Room, RoomSession, errorName, type ConveneError } from "convene";

const out = document.getElementById("out")!;

async function main(): Promise<Record<string, unknown>> {
  await init();
  const token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ2aXRlIiwib3ZzcCI6eyJyb29tIjoidml0ZSJ9fQ.c2ln";
  const session = new RoomSession({ token, rootElement: document.getElementById("root") });
  const room = new Room({ clientToken: token });
  const call = new Call({ token });
  let invalid: ConveneError | null = null;
  try {
    await session.setInputVolume({ volume: 99 });
  } catch (e) {
    invalid = e as ConveneError;
  }
  const result = {
    roomSession: typeof session.join,
    room: room.getState().status,
    call: call.status,
    error: invalid ? [invalid instanceof Error, invalid.name, invalid.code] : null,
    name53105: errorName(53105),
  };
  session.destroy();
  return result;
}

main().then(
  (r) => {
    out.textContent = JSON.stringify(r);
    out.dataset.done = "ok";
  },
  (e) => {
    out.textContent = String(e?.stack ?? e);
    out.dataset.done = "error";
  },
);
