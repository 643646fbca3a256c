/**
 * Child processes for the hold and soak runs, with the most file descriptors they may have: Node
 * cannot call setrlimit, so each child is started through `sh -c 'ulimit -n <hard limit>; exec
 * node …'` (the IPC channel's descriptor survives the exec). Every child is ended by its PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export class Child {
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  readonly name: string;
  /** What the child sent as `{ ready }` (the server: its port). */
  ready: unknown;

  private constructor(name: string, child: ChildProcess) {
    this.name = name;
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Starts `bench/soak/<script>.js` with `args`, resolves once it says `{ ready }`. */
  static async start(name: string, script: string, args: string[] = []): Promise<Child> {
    const path = fileURLToPath(new URL(`./${script}.js`, import.meta.url));
    const child = spawn(
      'sh',
      [
        '-c',
        'ulimit -n "$(ulimit -Hn)" && exec "$0" "$@"',
        process.execPath,
        '--expose-gc',
        path,
        ...args,
      ],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    const started = new Child(name, child);
    try {
      started.ready = await started.next('ready', 30_000);
    } catch (error) {
      await started.kill();
      throw error;
    }
    return started;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  send(message: object): void {
    this.#child.send(message);
  }

  /**
   * The next IPC message that has `key`, or a rejection after `ms` or if the child exits first.
   * Resolves with that key's value.
   */
  next<T = unknown>(key: string, ms: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onMessage = (message: Record<string, unknown>) => {
        if (!(key in message)) return;
        done();
        resolve(message[key] as T);
      };
      const onExit = (code: number | null) => {
        done();
        reject(new Error(`${this.name} exited (code ${code}) before sending ${key}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.name} sent no ${key} within ${ms} ms`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        this.#child.off('message', onMessage);
        this.#child.off('exit', onExit);
      };
      this.#child.on('message', onMessage);
      this.#child.once('exit', onExit);
    });
  }

  /** Sends `message` and resolves with the child's answer under `key`. */
  ask<T>(message: object, key: string, ms = 30_000): Promise<T> {
    const answer = this.next<T>(key, ms);
    this.send(message);
    return answer;
  }

  /** Ends the child by its PID (SIGKILL if it has not exited 2 s after SIGTERM). */
  async kill(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 2000);
    await this.#exited;
    clearTimeout(timer);
  }
}
