/**
 * Bounded waits (and loopback socket pairs) for every test: every wait has a deadline, so a test
 * of code that hangs fails instead of hanging, and every socket is on 127.0.0.1.
 */
import net from 'node:net';

/** Rejects if `promise` has not settled within `ms`: a hang fails the test. */
export function within<T>(promise: Promise<T>, ms = 3000, what = 'the operation'): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
    }),
  ]);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves once `condition()` holds (checked every few ms); rejects after `ms`. */
export async function waitFor(condition: () => boolean, ms = 3000, what = 'the condition') {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await delay(5);
  }
}

/** Resolves true if `promise` settles within `ms`, false if it is still pending then. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    }),
  ]);
  clearTimeout(timer);
  return settled;
}

/** A connected TCP pair on the loopback interface; the listening socket is closed already. */
export async function tcpPair(
  serverOptions: net.ServerOpts = {},
): Promise<{ server: net.Socket; client: net.Socket }> {
  const listener = net.createServer(serverOptions);
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(0, '127.0.0.1', resolve);
  });
  const { port } = listener.address() as net.AddressInfo;
  const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve));
  const client = net.connect({ host: '127.0.0.1', port });
  try {
    await within(
      new Promise<void>((resolve, reject) => {
        client.once('connect', resolve);
        client.once('error', reject);
      }),
      3000,
      'the loopback connection',
    );
    const server = await within(accepted, 3000, 'the accepted connection');
    return { server, client };
  } finally {
    listener.close();
  }
}

/**
 * A wake-up call for a poller that waits for "something changed" with a deadline (output came,
 * a message came, the process exited): `notify()` wakes every waiter; `until(deadline)` resolves
 * true when woken, false once the deadline (a `Date.now()` time) passes.
 */
export class Signal {
  #waiters: Array<() => void> = [];

  until(deadline: number): Promise<boolean> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== wake);
        resolve(false);
      }, remaining);
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      this.#waiters.push(wake);
    });
  }

  notify(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}

/** True if a TCP connection to 127.0.0.1:`port` is refused (nothing listens there any more). */
export function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}
