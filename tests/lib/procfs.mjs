// Figures of a running process from /proc (Linux).

import fs from 'node:fs';

/** Number of open descriptors. */
export function fdCount(pid) {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** A "kB" field of /proc/PID/status (VmRSS, VmHWM, ...) in KiB; NaN when
 * the field is missing. Throws when the process is gone. */
export function statusKiB(pid, field = 'VmRSS') {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** Resident set size in KiB. */
export const rssKiB = (pid) => statusKiB(pid, 'VmRSS');

/** CPU time used so far (user + system), in ms (10 ms ticks). */
export function cpuMs(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/** The pid of the process's first child, or null. */
export function childPid(pid) {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0]) || null;
  } catch {
    return null;
  }
}
