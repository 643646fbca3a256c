/*
 * The fan-out suite's subscribers in C (bench/fanout/subscribers.ts compiles and drives it): many
 * WebSocket connections in one process that upgrade, then only read, counting the messages the
 * server pushes to them. A message counts once its whole frame has been read. It costs a server
 * far less per delivered message than a Node client would, on a machine whose cores the server
 * shares with its subscribers.
 *
 * Usage: subscriber MODE PATH CONNECTIONS PORT [PORT...]
 *   MODE ws:  every data frame is a message (a wsnet or ws server subscribes each connection
 *             itself when it connects).
 *   MODE sio: an engine.io v4 / socket.io v4 client over a bare WebSocket: the server's open
 *             packet `0{...}` is read, `40` connects the default namespace (the server then joins
 *             the socket to its room), an event `42[...]` is a message, and the server's pings
 *             `2` are answered `3`.
 *   PATH is the upgrade request's path; connections go to the PORTs in turn (a cluster of servers).
 * WebSocket pings are answered with pongs in both modes; a close frame or a lost connection is an
 * error. A message's payload may carry `t=<ns>` (CLOCK_MONOTONIC nanoseconds, the clock of Node's
 * process.hrtime.bigint() on Linux): its delivery latency then goes into a histogram.
 *
 * It prints "ready" once every connection is upgraded (and, in sio mode, has sent `40`). Then, on
 * stdin, one command per line:
 *   until TOTAL MS  print "at COUNT" once COUNT (the messages counted since the start, over every
 *                   connection) reaches TOTAL, or after MS milliseconds with what it is then.
 *   stats           print "stats COUNT CPU_US HISTOGRAM": the count, this process's CPU time so
 *                   far, and the latencies since the last stats as BUCKET:COUNT pairs (bucket:
 *                   see latency_bucket), or "-" for none; the histogram then starts empty.
 *   quit            (or end of input) close everything and exit.
 * Every failure prints "error ..." on stderr and exits with status 1.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/epoll.h>
/* fail, the clocks, open_connection, payload_length and their headers. */
#include "ws-bench.h"

#define READ_BUFFER (256 * 1024)
/* Bytes of each payload kept: enough for a control frame (<= 125), "42" and the timestamp. */
#define PREFIX 128
/* 64 exact buckets below 64 µs, then 32 per power of two (about 3 % wide), up to 2^40 µs. */
#define BUCKETS (64 + 40 * 32)

struct connection {
  int fd;
  unsigned char header[14];
  size_t header_have;
  /* The frame being read: its opcode, payload bytes still to read, and its first bytes. */
  int opcode;
  int fin;
  uint64_t remaining;
  uint64_t length;
  unsigned char prefix[PREFIX];
};

static int sio;
static long counted;
static long histogram[BUCKETS];

/* A latency in µs to its bucket: exact below 64, then 32 buckets per power of two. */
static int latency_bucket(uint64_t us) {
  if (us < 64) return (int)us;
  int msb = 63 - __builtin_clzll(us);
  int shift = msb - 5;
  int bucket = 64 + (shift - 1) * 32 + (int)((us >> shift) - 32);
  return bucket < BUCKETS ? bucket : BUCKETS - 1;
}

/* Writes a small masked client frame (mask 0: the payload goes as it is, which RFC 6455 allows). */
static void send_frame(struct connection *c, int opcode, const unsigned char *payload, size_t length) {
  unsigned char out[6 + PREFIX] = {(unsigned char)(0x80 | opcode), (unsigned char)(0x80 | length), 0, 0, 0, 0};
  memcpy(out + 6, payload, length);
  /* The socket's send buffer is empty (a subscriber writes nothing else): a tiny write fits. */
  if (write(c->fd, out, 6 + length) != (ssize_t)(6 + length)) fail("write reply");
}

/* A whole frame has been read: count it, answer it, or fail on a close. */
static void frame_done(struct connection *c) {
  size_t kept = c->length < PREFIX ? c->length : PREFIX;
  if (c->opcode == 9) {
    send_frame(c, 10, c->prefix, kept);
    return;
  }
  if (c->opcode == 8) {
    errno = ECONNRESET;
    fail("server sent a close frame");
  }
  if (c->opcode == 10 || !c->fin) return;
  if (sio) {
    if (kept == 1 && c->prefix[0] == '2') {
      send_frame(c, 1, (const unsigned char *)"3", 1);
      return;
    }
    if (kept < 2 || c->prefix[0] != '4' || c->prefix[1] != '2') return;
  }
  counted++;
  unsigned char *stamp = memmem(c->prefix, kept, "t=", 2);
  if (stamp == NULL) return;
  uint64_t sent = 0;
  for (unsigned char *digit = stamp + 2; digit < c->prefix + kept && *digit >= '0' && *digit <= '9'; digit++)
    sent = sent * 10 + (*digit - '0');
  uint64_t now = now_ns();
  histogram[latency_bucket(now > sent ? (now - sent) / 1000 : 0)]++;
}

/* Reads the frames in `data`, headers byte by byte, payloads kept up to PREFIX bytes. */
static void read_frames(struct connection *c, const unsigned char *data, size_t length) {
  size_t at = 0;
  while (at < length) {
    if (c->remaining > 0) {
      size_t take = length - at < c->remaining ? length - at : c->remaining;
      uint64_t offset = c->length - c->remaining;
      if (offset < PREFIX) {
        size_t keep = PREFIX - offset < take ? PREFIX - offset : take;
        memcpy(c->prefix + offset, data + at, keep);
      }
      c->remaining -= take;
      at += take;
      if (c->remaining == 0) frame_done(c);
      continue;
    }
    c->header[c->header_have++] = data[at++];
    if (c->header_have < 2) continue;
    unsigned char second = c->header[1];
    size_t needed = 2 + ((second & 0x7f) == 126 ? 2 : (second & 0x7f) == 127 ? 8 : 0);
    if (second & 0x80) {
      errno = EPROTO;
      fail("masked frame from the server");
    }
    if (c->header_have < needed) continue;
    uint64_t payload = payload_length(c->header);
    c->header_have = 0;
    c->opcode = c->header[0] & 0x0f;
    c->fin = c->header[0] >> 7;
    c->length = c->remaining = payload;
    if (payload == 0) frame_done(c);
  }
}

static void print_stats(void) {
  printf("stats %ld %ld", counted, cpu_us());
  int any = 0;
  for (int i = 0; i < BUCKETS; i++) {
    if (histogram[i] == 0) continue;
    printf("%s%d:%ld", any ? "," : " ", i, histogram[i]);
    histogram[i] = 0;
    any = 1;
  }
  printf("%s\n", any ? "" : " -");
  fflush(stdout);
}

int main(int argc, char **argv) {
  if (argc < 5 || (strcmp(argv[1], "ws") != 0 && strcmp(argv[1], "sio") != 0)) {
    fprintf(stderr, "usage: %s ws|sio PATH CONNECTIONS PORT [PORT...]\n", argv[0]);
    return 2;
  }
  sio = strcmp(argv[1], "sio") == 0;
  const char *path = argv[2];
  int count = atoi(argv[3]);
  int ports = argc - 4;
  /* As many descriptors as the hard limit allows: thousands of connections per process. */
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }

  int epoll_fd = epoll_create1(0);
  if (epoll_fd < 0) fail("epoll_create1");
  struct connection *connections = calloc(count, sizeof *connections);
  for (int i = 0; i < count; i++) {
    struct connection *c = &connections[i];
    c->fd = open_connection(atoi(argv[4 + i % ports]), path);
    if (sio) send_frame(c, 1, (const unsigned char *)"40", 2);
    if (fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) < 0) fail("fcntl");
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c->fd, &event) < 0) fail("epoll_ctl");
  }
  /* stdin is watched beside the connections (data.ptr NULL): commands arrive while frames do. */
  if (fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK) < 0) fail("fcntl stdin");
  struct epoll_event input = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, 0, &input) < 0) fail("epoll_ctl stdin");
  printf("ready\n");
  fflush(stdout);

  static unsigned char buffer[READ_BUFFER];
  struct epoll_event events[256];
  char line[256];
  size_t line_have = 0;
  /* The pending `until`: its target and deadline (target < 0: none). */
  long target = -1;
  double deadline = 0;
  for (;;) {
    if (target >= 0 && (counted >= target || now_ms() >= deadline)) {
      printf("at %ld\n", counted);
      fflush(stdout);
      target = -1;
    }
    int timeout = target >= 0 ? (int)(deadline - now_ms()) + 1 : -1;
    int ready = epoll_wait(epoll_fd, events, 256, target >= 0 && timeout < 0 ? 0 : timeout);
    if (ready < 0) {
      if (errno == EINTR) continue;
      fail("epoll_wait");
    }
    for (int e = 0; e < ready; e++) {
      struct connection *c = events[e].data.ptr;
      if (c == NULL) {
        ssize_t got = read(0, line + line_have, sizeof line - 1 - line_have);
        if (got < 0 && errno == EAGAIN) continue;
        if (got <= 0) goto quit;
        line_have += got;
        char *end;
        while ((end = memchr(line, '\n', line_have)) != NULL) {
          *end = '\0';
          long total;
          double ms;
          if (strcmp(line, "quit") == 0) goto quit;
          if (strcmp(line, "stats") == 0) print_stats();
          else if (sscanf(line, "until %ld %lf", &total, &ms) == 2) {
            target = total;
            deadline = now_ms() + ms;
          } else {
            errno = EINVAL;
            fprintf(stderr, "error unknown command: %s\n", line);
            return 1;
          }
          line_have -= end + 1 - line;
          memmove(line, end + 1, line_have);
        }
        if (line_have == sizeof line - 1) {
          errno = EMSGSIZE;
          fail("command too long");
        }
        continue;
      }
      ssize_t got = read(c->fd, buffer, sizeof buffer);
      if (got < 0 && errno == EAGAIN) continue;
      if (got <= 0) {
        errno = got == 0 ? ECONNRESET : errno;
        fail("read");
      }
      read_frames(c, buffer, got);
    }
  }
quit:
  for (int i = 0; i < count; i++) close(connections[i].fd);
  return 0;
}
