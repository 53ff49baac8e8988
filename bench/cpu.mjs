// CPU time of the workerd processes a bench started, read from /proc: the figure that
// moves least when other work shares the machine (bench/README.md).
import { readdirSync, readFileSync } from "node:fs";

const CLOCK_TICKS_PER_SECOND = 100; // Linux USER_HZ

/**
 * CPU time (user + system, ms) used so far by the workerd processes this process
 * started (Miniflare runs each worker in a workerd child). Only the worker a run
 * targets is busy during it, so the difference over a run, work after the response
 * included, is that worker's. `null` where /proc is not readable.
 */
export function workerdCpuMs() {
  try {
    let ticks = 0;
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      let stat;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      } catch {
        continue; // exited meanwhile
      }
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // fields[1] is the parent pid; [11] and [12] are utime and stime.
      if (comm === "workerd" && Number(fields[1]) === process.pid) ticks += Number(fields[11]) + Number(fields[12]);
    }
    return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}
