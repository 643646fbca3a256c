/**
 * The keys of explicit resource management (`using` / `await using`), as the running Node
 * knows them.
 *
 * Node 20.4+ and 22 define `Symbol.dispose` and `Symbol.asyncDispose` as the registered symbols
 * `Symbol.for('nodejs.dispose')` and `Symbol.for('nodejs.asyncDispose')`; Node 24 (V8) has the
 * language's own. Node 20.0 to 20.3 have neither: there the registered symbols Node later used
 * stand in, so that a class never gets a method named "undefined". A library must not patch
 * globals, so nothing is defined on `Symbol`.
 *
 * The types are the language's well-known symbols (declared by TypeScript's `esnext.disposable`
 * lib and by @types/node), so a class keyed by these is `Disposable` / `AsyncDisposable`.
 */

export const disposeSymbol: typeof Symbol.dispose =
  Symbol.dispose ?? (Symbol.for('nodejs.dispose') as typeof Symbol.dispose);

export const asyncDisposeSymbol: typeof Symbol.asyncDispose =
  Symbol.asyncDispose ?? (Symbol.for('nodejs.asyncDispose') as typeof Symbol.asyncDispose);
