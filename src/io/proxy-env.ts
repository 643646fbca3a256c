/**
 * Which proxy the environment names for a URL: `https_proxy`/`HTTPS_PROXY` for wss (and https),
 * `http_proxy`/`HTTP_PROXY` for ws (and http), `all_proxy`/`ALL_PROXY` for either when the
 * scheme's own is unset, and `no_proxy`/`NO_PROXY` to bypass them, with the rules curl and
 * Python's urllib share (their de-facto standard; there is no written one):
 *
 * - the lower-case variable wins over the upper-case one; an empty value is unset;
 * - `HTTP_PROXY` (upper case) is ignored when `REQUEST_METHOD` is set: under CGI a client's
 *   `Proxy:` header arrives as `HTTP_PROXY` ("httpoxy"), as Python does;
 * - a proxy without a scheme (`proxy:3128`) is `http://proxy:3128`;
 * - `no_proxy` is a comma-separated list, matched case-insensitively: `*` bypasses everything;
 *   a name matches itself and its subdomains (`example.com` and `.example.com` alike match
 *   `example.com` and `a.example.com`, never `notexample.com`; `*.example.com` is read as
 *   `.example.com`); `host:port` matches that port only; an IP literal (IPv6 with or without
 *   brackets) or a CIDR block (`10.0.0.0/8`) matches a URL whose host is an address in it.
 *   Names are not resolved: an IP entry never matches a host name, nor a name an address.
 */
import net from 'node:net';

/** The variables read, as `process.env` has them. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** The proxy the environment names for a URL, and the variable that named it (for errors). */
export interface EnvironmentProxy {
  readonly url: string;
  readonly variable: string;
}

/** The first of `names` set to something other than '' in `env`. */
function lookup(env: Environment, names: readonly string[]): EnvironmentProxy | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value !== undefined && value !== '') return { url: value, variable: name };
  }
  return undefined;
}

/** The default port of a ws/wss/http/https URL. */
function portOf(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'wss:' || url.protocol === 'https:' ? 443 : 80;
}

/** A host as compared: lower case, without IPv6 brackets or a trailing dot. */
function normalHost(host: string): string {
  let text = host.toLowerCase();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  if (text.endsWith('.')) text = text.slice(0, -1);
  return text;
}

/** One `no_proxy` entry, read. */
type Rule =
  | { readonly kind: 'all' }
  | { readonly kind: 'name'; readonly name: string; readonly port: number | undefined }
  | { readonly kind: 'address'; readonly block: net.BlockList; readonly port: number | undefined };

/** Splits `host[:port]` (IPv6 in brackets, or bare without a port). */
function splitPort(entry: string): { host: string; port: number | undefined } {
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close !== -1) {
      const rest = entry.slice(close + 1);
      const port = /^:\d+$/.test(rest) ? Number(rest.slice(1)) : undefined;
      return { host: entry.slice(1, close), port };
    }
  }
  // More than one colon and no brackets: a bare IPv6 address (a CIDR block included).
  if (entry.indexOf(':') !== entry.lastIndexOf(':')) return { host: entry, port: undefined };
  const match = /^(.*):(\d+)$/.exec(entry);
  return match === null
    ? { host: entry, port: undefined }
    : { host: match[1], port: Number(match[2]) };
}

function parseRule(raw: string): Rule | undefined {
  const entry = raw.trim().toLowerCase();
  if (entry === '') return undefined;
  if (entry === '*') return { kind: 'all' };
  const { host, port } = splitPort(entry);
  const [address, prefix, ...extra] = host.split('/');
  const family = net.isIP(address);
  if (family !== 0) {
    const type = family === 4 ? 'ipv4' : 'ipv6';
    const block = new net.BlockList();
    if (prefix === undefined) block.addAddress(address, type);
    else {
      const bits = Number(prefix);
      if (extra.length > 0 || !/^\d+$/.test(prefix) || bits > (family === 4 ? 32 : 128))
        return undefined; // not an address block: an entry that matches nothing
      block.addSubnet(address, bits, type);
    }
    return { kind: 'address', block, port };
  }
  let name = host.startsWith('*.') ? host.slice(1) : host;
  while (name.startsWith('.')) name = name.slice(1);
  if (name.endsWith('.')) name = name.slice(0, -1);
  return name === '' ? undefined : { kind: 'name', name, port };
}

/** Whether `no_proxy`'s value says that `url` is reached directly. */
export function bypassesProxy(url: URL, noProxy: string): boolean {
  const host = normalHost(url.hostname);
  const port = portOf(url);
  const family = net.isIP(host);
  for (const raw of noProxy.split(',')) {
    const rule = parseRule(raw);
    if (rule === undefined) continue;
    if (rule.kind === 'all') return true;
    if (rule.port !== undefined && rule.port !== port) continue;
    if (rule.kind === 'address') {
      if (family !== 0 && rule.block.check(host, family === 4 ? 'ipv4' : 'ipv6')) return true;
    } else if (family === 0 && (host === rule.name || host.endsWith(`.${rule.name}`))) {
      return true;
    }
  }
  return false;
}

/**
 * The proxy the environment names for `url` (a ws, wss, http or https URL), or undefined to
 * connect directly.
 */
export function proxyFromEnvironment(url: URL, env: Environment): EnvironmentProxy | undefined {
  const noProxy = lookup(env, ['no_proxy', 'NO_PROXY']);
  if (noProxy !== undefined && bypassesProxy(url, noProxy.url)) return undefined;
  const secure = url.protocol === 'wss:' || url.protocol === 'https:';
  const own = secure
    ? lookup(env, ['https_proxy', 'HTTPS_PROXY'])
    : lookup(
        env,
        (env.REQUEST_METHOD ?? '') === '' ? ['http_proxy', 'HTTP_PROXY'] : ['http_proxy'],
      );
  const found = own ?? lookup(env, ['all_proxy', 'ALL_PROXY']);
  if (found === undefined) return undefined;
  // curl and Python take `host:port` as an http:// proxy.
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(found.url)
    ? found
    : { url: `http://${found.url}`, variable: found.variable };
}
