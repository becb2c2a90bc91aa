// Child processes: figures run in their own process (own heap, own event loop), with a hard time limit.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { RESULT_PREFIX } from './figure.mjs';

/**
 * Runs `node [nodeArgs] script options` and resolves with the figure results it printed, the exit
 * code and whether it was killed for exceeding `timeoutMs`. Never rejects.
 */
export function runFigureScript(script, options, { timeoutMs, nodeArgs = [] }) {
  return new Promise((resolve) => {
    const results = [];
    const child = spawn(process.execPath, [...nodeArgs, script, JSON.stringify(options)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith(RESULT_PREFIX)) results.push(JSON.parse(line.slice(RESULT_PREFIX.length)));
      else if (line.trim() !== '') process.stderr.write(`    | ${line}\n`);
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ results, code: null, timedOut, error: error.message });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ results, code: code ?? signal, timedOut, error: null });
    });
  });
}

/**
 * Starts a server script that prints one `READY {json}` line on stdout and exits when its stdin
 * closes. Resolves with that JSON, a `stop()` that closes stdin and waits for the exit, `cpu()`,
 * the server process's `process.cpuUsage()` (µs) as it answers a `cpu` line on its stdin, and
 * `send(line)`, which writes one control line to its stdin (the SSE servers take commands there).
 */
export function startServer(script, args, { timeoutMs = 30_000, nodeArgs = [] } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    const exited = new Promise((done) => child.on('close', done));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not become ready within ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = async () => {
      child.stdin.end();
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    };
    const cpuAnswers = [];
    const cpu = () =>
      new Promise((answer) => {
        cpuAnswers.push(answer);
        child.stdin.write('cpu\n');
      });
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.startsWith('CPU ')) {
        cpuAnswers.shift()?.(JSON.parse(line.slice('CPU '.length)));
        return;
      }
      if (!line.startsWith('READY ')) return;
      clearTimeout(timer);
      resolve({
        info: JSON.parse(line.slice('READY '.length)),
        stop,
        cpu,
        send: (text) => child.stdin.write(`${text}\n`),
      });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code}) before it was ready`));
    });
  });
}

/**
 * In a server script: exit once the parent closes our stdin (so no server outlives the bench), and
 * answer each `cpu` line with a `CPU {user,system}` line (this process's CPU time so far, µs).
 */
export function exitWhenParentCloses(cleanup) {
  createInterface({ input: process.stdin }).on('line', (line) => {
    if (line === 'cpu') process.stdout.write(`CPU ${JSON.stringify(process.cpuUsage())}\n`);
  });
  process.stdin.on('end', async () => {
    await cleanup();
    process.exit(0);
  });
}
