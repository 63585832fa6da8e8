// Helpers of the fault-injection tests only: their sizes, the LD_PRELOAD
// shim, and a raw WebSocket client that can stop anywhere in a frame. The
// rest (server, clients, seeded generator, /proc figures) is tests/lib.

import net from 'node:net';
import path from 'node:path';
import crypto from 'node:crypto';
import { ROOT } from '../lib/index.mjs';

export const MODE = process.env.FAULT_MODE || 'smoke';
export const FULL = MODE === 'full';
export const KILLS = Number(process.env.FAULT_KILLS || (FULL ? 300 : 30));
export const CYCLES = Number(process.env.FAULT_CYCLES || (FULL ? 5000 : 1500));

export const SHIM = process.env.FAILWRITE_LIB
  ? path.resolve(process.env.FAILWRITE_LIB)
  : path.join(ROOT, 'build', 'libfailwrite.so');

/** Environment that preloads the shim: faults on paths containing `match`
 * while `control` exists. */
export function shimEnv({ match, control, errno = 'ENOSPC', calls = 'write,fsync,rename', count }) {
  const env = {
    LD_PRELOAD: SHIM,
    FAILWRITE_MATCH: match,
    FAILWRITE_CONTROL: control,
    FAILWRITE_ERRNO: errno,
    FAILWRITE_CALLS: calls,
    // A sanitizer build refuses a preload ahead of its runtime otherwise.
    ASAN_OPTIONS: `${process.env.ASAN_OPTIONS ? process.env.ASAN_OPTIONS + ':' : ''}verify_asan_link_order=0`,
  };
  if (count) env.FAILWRITE_COUNT = count;
  return env;
}

/** A masked client frame header (and mask) for a payload of `len` bytes. */
export function frameHeader(len, { opcode = 1, fin = true } = {}) {
  const first = (fin ? 0x80 : 0) | opcode;
  let head;
  if (len < 126) head = Buffer.from([first, 0x80 | len]);
  else if (len < 65536) { head = Buffer.alloc(4); head[0] = first; head[1] = 0x80 | 126; head.writeUInt16BE(len, 2); }
  else { head = Buffer.alloc(10); head[0] = first; head[1] = 0x80 | 127; head.writeBigUInt64BE(BigInt(len), 2); }
  return Buffer.concat([head, Buffer.from([1, 2, 3, 4])]);
}

export function mask(payload) {
  const out = Buffer.from(payload);
  for (let i = 0; i < out.length; i++) out[i] ^= [1, 2, 3, 4][i & 3];
  return out;
}

/**
 * Raw TCP client: sends the upgrade request (or only `upgradeBytes` of it),
 * waits for the 101 when the request is complete, and returns the socket.
 */
export function rawUpgrade(port, { upgradeBytes, timeout = 8000 } = {}) {
  return new Promise((resolve, reject) => {
    const key = crypto.randomBytes(16).toString('base64');
    const req = `GET /_mirrorstate/ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
      `Sec-WebSocket-Protocol: mirrorstate.v1\r\n\r\n`;
    const sock = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('raw upgrade timed out')); }, timeout);
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
    sock.on('connect', () => {
      if (upgradeBytes !== undefined) {
        sock.write(req.slice(0, upgradeBytes));
        clearTimeout(timer);
        resolve(sock);
        return;
      }
      sock.write(req);
    });
    let got = '';
    sock.on('data', (d) => {
      if (upgradeBytes !== undefined) return;
      got += d.toString('latin1');
      if (got.includes('\r\n\r\n')) {
        clearTimeout(timer);
        if (!got.startsWith('HTTP/1.1 101')) { sock.destroy(); reject(new Error(`upgrade refused: ${got.split('\r\n')[0]}`)); return; }
        sock.removeAllListeners('data');
        resolve(sock);
      }
    });
  });
}
