/*
 * What the benchmarks' C programs share (bench/echo/load-generator.c, bench/fanout/subscriber.c):
 * failing, the clocks, the client's blocking connect and upgrade, and a frame header's payload
 * length. Each program includes it (after defining _GNU_SOURCE) and is compiled as one translation
 * unit, so everything here is static. bench/c-build.ts passes -I for this directory and hashes
 * this file with the program's source: a change here recompiles both.
 */
#ifndef WS_BENCH_H
#define WS_BENCH_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Prints "error WHAT: <errno's message>" on stderr and exits with status 1. */
static void fail(const char *what) {
  fprintf(stderr, "error %s: %s\n", what, strerror(errno));
  exit(1);
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* CLOCK_MONOTONIC in nanoseconds. Inline: a program that does not use it gets no warning. */
static inline uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + t.tv_nsec;
}

/* This process's CPU time (user and system) so far, in µs. */
static long cpu_us(void) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000L + usage.ru_utime.tv_usec +
         usage.ru_stime.tv_usec;
}

/* A frame header's payload length, once the header has its extended length bytes (2 or 8). */
static uint64_t payload_length(const unsigned char *header) {
  uint64_t payload = header[1] & 0x7f;
  if (payload == 126) payload = (header[2] << 8) | header[3];
  else if (payload == 127) {
    payload = 0;
    for (int i = 2; i < 10; i++) payload = (payload << 8) | header[i];
  }
  return payload;
}

/*
 * The upgrade request for `path` on 127.0.0.1:`port`, with RFC 6455 §1.3's example key (the 101
 * is checked by its status only), into `out`; returns its length as snprintf does.
 */
static int upgrade_request(char *out, size_t size, const char *path, int port) {
  return snprintf(out, size,
                  "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: Upgrade\r\n"
                  "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
                  path, port);
}

/* Blocking connect and upgrade; the caller turns the socket non-blocking once the 101 is read. */
static int open_connection(int port, const char *path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) fail("socket");
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) fail("connect");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char request[512];
  int length = upgrade_request(request, sizeof request, path, port);
  if (write(fd, request, length) != length) fail("write upgrade");
  /* Read byte by byte up to the end of the head: nothing after it may be swallowed. What follows
     is the caller's (engine.io's open packet is a frame; a byte too many would shift an echo
     count), though no server sends an echo before the client sends a frame. */
  char head[4096];
  size_t have = 0;
  while (have < 4 || memcmp(head + have - 4, "\r\n\r\n", 4) != 0) {
    if (have == sizeof head) {
      errno = EMSGSIZE;
      fail("read upgrade");
    }
    ssize_t got = read(fd, head + have, 1);
    if (got <= 0) fail("read upgrade");
    have += got;
  }
  if (have < 12 || memcmp(head + 9, "101", 3) != 0) {
    errno = EPROTO;
    fail("upgrade refused");
  }
  return fd;
}

#endif
