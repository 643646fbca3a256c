/**
 * python-websockets (Debian's python3-websockets, run by /usr/bin/python3) for the interop tests:
 * its processes, and an echo server that prints the port it listens on.
 */
import type { Buffer } from 'node:buffer';
import { spawn, type ChildProcess } from 'node:child_process';
import { within } from './wait.js';

export const PYTHON = '/usr/bin/python3';

/** Echoes every message, with no size limit, on 127.0.0.1 and a free port, which it prints. */
export const PYTHON_ECHO_SERVER = `
import asyncio, websockets
async def echo(ws, path=None):
    async for message in ws:
        await ws.send(message)
async def main():
    async with websockets.serve(echo, "127.0.0.1", 0, max_size=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()
asyncio.run(main())
`;

/** `python3 -c <script> <args>`, its output piped. */
export function spawnPython(script: string, args: string[] = []): ChildProcess {
  return spawn(PYTHON, ['-c', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The port PYTHON_ECHO_SERVER prints once it listens; rejects if it exits before. */
export function echoServerPort(child: ChildProcess, ms = 10_000): Promise<number> {
  let errors = '';
  child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  return within(
    new Promise<number>((resolve, reject) => {
      child.stdout!.once('data', (line: Buffer) => resolve(Number(line.toString().trim())));
      child.once('exit', () =>
        reject(
          new Error(
            `python3 -c <websockets echo server> exited: ${errors || 'is python3-websockets installed? (.ci/run installs it)'}`,
          ),
        ),
      );
    }),
    ms,
    'the python server to listen',
  );
}
