#!/usr/bin/env node
import { processIo } from './io.js';
import { main } from './main.js';

const code = await main(process.argv.slice(2), processIo());
// fetch's keep-alive sockets (and a long-poll abandoned on Ctrl-C) would hold the process open for
// seconds: exit as soon as everything written has been flushed.
process.exitCode = code;
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
