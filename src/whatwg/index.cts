/**
 * The CommonJS entry: `require('wsnet/whatwg')` gives the ES module itself, loaded through
 * Node's `require(esm)` (Node >= 20.19), so CommonJS and ESM code share one copy of every class
 * and `instanceof` holds across them (a second, CommonJS build would make two copies).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- the CommonJS form of an import
import whatwg = require('./index.js');
export = whatwg;
