/**
 * src/io/proxy-env.ts, table-driven: which proxy variable applies to which URL, and the
 * `no_proxy` rules curl and Python's urllib share.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bypassesProxy, proxyFromEnvironment, type Environment } from '../../src/io/proxy-env.js';

describe('proxyFromEnvironment: which variable names the proxy', () => {
  const cases: Array<[string, string, Environment, string | undefined, string?]> = [
    ['nothing set', 'ws://a.test/', {}, undefined],
    [
      'ws uses http_proxy',
      'ws://a.test/',
      { http_proxy: 'http://p:1' },
      'http://p:1',
      'http_proxy',
    ],
    [
      'ws uses HTTP_PROXY',
      'ws://a.test/',
      { HTTP_PROXY: 'http://p:2' },
      'http://p:2',
      'HTTP_PROXY',
    ],
    [
      'lower case wins',
      'ws://a.test/',
      { http_proxy: 'http://lower:1', HTTP_PROXY: 'http://upper:1' },
      'http://lower:1',
      'http_proxy',
    ],
    ['wss uses https_proxy', 'wss://a.test/', { https_proxy: 'http://s:1' }, 'http://s:1'],
    ['wss uses HTTPS_PROXY', 'wss://a.test/', { HTTPS_PROXY: 'http://s:2' }, 'http://s:2'],
    ['wss ignores http_proxy', 'wss://a.test/', { http_proxy: 'http://p:1' }, undefined],
    ['ws ignores https_proxy', 'ws://a.test/', { https_proxy: 'http://s:1' }, undefined],
    ['https maps as wss', 'https://a.test/', { https_proxy: 'http://s:1' }, 'http://s:1'],
    ['http maps as ws', 'http://a.test/', { http_proxy: 'http://p:1' }, 'http://p:1'],
    ['all_proxy as fallback', 'wss://a.test/', { all_proxy: 'http://all:1' }, 'http://all:1'],
    ['ALL_PROXY as fallback', 'ws://a.test/', { ALL_PROXY: 'http://all:2' }, 'http://all:2'],
    [
      "the scheme's own first",
      'ws://a.test/',
      { ALL_PROXY: 'http://all:1', http_proxy: 'http://p:1' },
      'http://p:1',
    ],
    ['empty is unset', 'ws://a.test/', { http_proxy: '', HTTP_PROXY: 'http://p:2' }, 'http://p:2'],
    ['only blanks is unset', 'ws://a.test/', { http_proxy: '  ' }, undefined],
    ['no scheme is http://', 'ws://a.test/', { http_proxy: 'p.test:3128' }, 'http://p.test:3128'],
    ['another scheme kept', 'ws://a.test/', { ALL_PROXY: 'socks5://s:1080' }, 'socks5://s:1080'],
    [
      'HTTP_PROXY ignored under CGI (httpoxy)',
      'ws://a.test/',
      { HTTP_PROXY: 'http://evil:1', REQUEST_METHOD: 'GET' },
      undefined,
    ],
    [
      'http_proxy still read under CGI',
      'ws://a.test/',
      { http_proxy: 'http://p:1', REQUEST_METHOD: 'GET' },
      'http://p:1',
    ],
    [
      'no_proxy bypasses',
      'ws://a.test/',
      { http_proxy: 'http://p:1', no_proxy: 'a.test' },
      undefined,
    ],
    [
      'NO_PROXY bypasses',
      'wss://a.test/',
      { https_proxy: 'http://p:1', NO_PROXY: 'a.test' },
      undefined,
    ],
    [
      'no_proxy wins over NO_PROXY',
      'ws://a.test/',
      { http_proxy: 'http://p:1', no_proxy: 'b.test', NO_PROXY: 'a.test' },
      'http://p:1',
    ],
  ];
  for (const [name, url, env, expected, variable] of cases) {
    it(name, () => {
      const found = proxyFromEnvironment(new URL(url), env);
      assert.equal(found?.url, expected);
      if (variable !== undefined) assert.equal(found?.variable, variable);
    });
  }
});

describe('bypassesProxy: the no_proxy rules', () => {
  const cases: Array<[string, string, boolean]> = [
    // [no_proxy, URL, bypassed]
    ['*', 'ws://anything.test/', true],
    ['*', 'ws://[::1]:9/', true],
    ['a.test, *', 'ws://b.test/', true],
    ['', 'ws://a.test/', false],
    [' , ,', 'ws://a.test/', false],
    ['example.com', 'ws://example.com/', true],
    ['example.com', 'ws://www.example.com/', true],
    ['example.com', 'ws://a.b.example.com/', true],
    ['example.com', 'ws://notexample.com/', false],
    ['example.com', 'ws://example.com.evil.test/', false],
    ['.example.com', 'ws://example.com/', true],
    ['.example.com', 'ws://www.example.com/', true],
    ['.example.com', 'ws://notexample.com/', false],
    ['*.example.com', 'ws://www.example.com/', true],
    ['www.example.com', 'ws://example.com/', false],
    ['EXAMPLE.com', 'ws://Example.COM/', true],
    ['example.com.', 'ws://example.com/', true],
    ['example.com', 'ws://example.com./', true],
    ['other.test,  example.com ', 'ws://example.com/', true],
    ['example.com:8080', 'ws://example.com:8080/', true],
    ['example.com:8080', 'ws://example.com:8081/', false],
    ['example.com:8080', 'ws://example.com/', false],
    ['example.com:80', 'ws://example.com/', true],
    ['example.com:443', 'wss://example.com/', true],
    ['example.com:443', 'ws://example.com/', false],
    ['127.0.0.1', 'ws://127.0.0.1:9000/', true],
    ['127.0.0.1', 'ws://127.0.0.2/', false],
    ['127.0.0.1:9000', 'ws://127.0.0.1:9000/', true],
    ['127.0.0.1:9000', 'ws://127.0.0.1:9001/', false],
    ['0.0.1', 'ws://10.0.0.1/', false],
    ['10.0.0.0/8', 'ws://10.20.30.40/', true],
    ['10.0.0.0/8', 'ws://11.0.0.1/', false],
    ['::1', 'ws://[::1]:9000/', true],
    ['[::1]', 'ws://[::1]/', true],
    ['[::1]:9000', 'ws://[::1]:9000/', true],
    ['[::1]:9000', 'ws://[::1]:9001/', false],
    ['0:0:0:0:0:0:0:1', 'ws://[::1]/', true],
    ['fd00::/8', 'ws://[fd12:3456::1]/', true],
    ['fd00::/8', 'ws://[fe80::1]/', false],
    ['[FD00::1]', 'ws://[fd00::1]/', true],
    ['127.0.0.1', 'ws://localhost/', false],
    ['localhost', 'ws://127.0.0.1/', false],
    ['localhost', 'ws://localhost:1234/', true],
    ['10.0.0.0/99', 'ws://10.0.0.1/', false],
  ];
  for (const [noProxy, url, bypassed] of cases) {
    it(`${JSON.stringify(noProxy)} ${bypassed ? 'bypasses' : 'does not bypass'} ${url}`, () => {
      assert.equal(bypassesProxy(new URL(url), noProxy), bypassed);
    });
  }
});
