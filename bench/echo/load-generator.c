/*
 * The echo suites' load generator in C (bench/echo/c-load.ts compiles and drives it): it costs a
 * server under test far less per message than the JavaScript generator in bench/echo/load.ts,
 * which saturates its core in the many-connection and pipelined rows (issue 12 asked for a
 * generator that costs less per message than the server it drives).
 *
 * It speaks only what an echo needs: the client's upgrade request (a fixed valid key; the 101 is
 * checked by its status code), then one pre-masked frame (read from a file) sent over and over.
 * Echoes are counted by their frame headers; payloads are skipped, never unmasked or checked.
 * A header with the mask bit set counts like any other, so that the ceiling (which echoes the
 * client's own masked frames) counts like a server.
 *
 * Usage: load-generator PORT CONNECTIONS IN_FLIGHT FRAME_FILE   (echoes)
 *        load-generator PORT handshakes IN_FLIGHT                 (handshakes)
 * The handshake load keeps IN_FLIGHT handshakes going, each: connect, send the upgrade request,
 * read the 101's head, send a masked close frame (1000), read the server's close frame (its first
 * frame after the 101; the ceiling's is the client's own, echoed), close the socket. COUNT is
 * then the handshakes completed; one refused or cut short counts as failed ("end" gets a fourth
 * number, the failures in the window).
 * Then, on stdin, one command per line:
 *   run WARMUP_MS MS   keep IN_FLIGHT frames outstanding on every connection; after WARMUP_MS
 *                      print "start", after MS more print "end COUNT CPU_US WALL_US" (echoes
 *                      counted, this process's CPU time and the wall time of the window), stop
 *                      sending, wait (5 s at most) for the frames still out, print "idle".
 *   quit               (or end of input) close everything and exit.
 * Every failure prints "error ..." on stderr and exits with status 1.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/uio.h>
/* fail, the clocks, open_connection, upgrade_request, payload_length and their headers. */
#include "ws-bench.h"

#define READ_BUFFER (256 * 1024)
/* The upgrade request's path. */
#define UPGRADE_PATH "/ws"
#define DRAIN_LIMIT_MS 5000

struct connection {
  int fd;
  /* Frames still to write (whole), and how much of the one being written is already out. */
  long to_send;
  size_t sent_of_current;
  /* Frames written whose echo has not come back. */
  long outstanding;
  /* The frame header being read (at most 14 bytes), and payload bytes still to skip. */
  unsigned char header[14];
  size_t header_have;
  uint64_t skip;
  int want_write;
};

static unsigned char *frame;
static size_t frame_length;
/* `batch_count` copies of the frame back to back, so that one write sends several echoes' worth. */
static unsigned char *batch;
static long batch_count;
static int epoll_fd;

/* The next command: 1 for "run WARMUP_MS MS" (into the two), 0 for "quit" or the end of input. */
static int next_run(double *warmup_ms, double *window_ms) {
  char command[128];
  if (fgets(command, sizeof command, stdin) == NULL || strncmp(command, "quit", 4) == 0) return 0;
  if (sscanf(command, "run %lf %lf", warmup_ms, window_ms) != 2) {
    fprintf(stderr, "error unknown command: %s", command);
    exit(1);
  }
  return 1;
}

static void watch(struct connection *c, int want_write) {
  if (c->want_write == want_write) return;
  struct epoll_event event = {.events = EPOLLIN | (want_write ? EPOLLOUT : 0), .data.ptr = c};
  if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &event) < 0) fail("epoll_ctl");
  c->want_write = want_write;
}

/* Writes as many of the frames owed as the socket takes, whole copies batched into one write. */
static void flush(struct connection *c) {
  while (c->to_send > 0) {
    const unsigned char *from;
    size_t length;
    if (c->sent_of_current == 0 && c->to_send > 1 && batch_count > 1) {
      long copies = c->to_send < batch_count ? c->to_send : batch_count;
      from = batch;
      length = copies * frame_length;
    } else {
      from = frame + c->sent_of_current;
      length = frame_length - c->sent_of_current;
    }
    ssize_t wrote = write(c->fd, from, length);
    if (wrote < 0) {
      if (errno == EAGAIN) {
        watch(c, 1);
        return;
      }
      fail("write");
    }
    size_t total = c->sent_of_current + wrote;
    c->to_send -= total / frame_length;
    c->outstanding += total / frame_length;
    c->sent_of_current = total % frame_length;
    /* A partial frame counts as outstanding only once whole: its echo cannot come back before. */
  }
  watch(c, 0);
}

/* Counts the complete frames in `data`; returns how many. */
static long count_frames(struct connection *c, const unsigned char *data, size_t length) {
  long frames = 0;
  size_t at = 0;
  while (at < length) {
    if (c->skip > 0) {
      size_t take = length - at < c->skip ? length - at : c->skip;
      c->skip -= take;
      at += take;
      if (c->skip == 0) frames++;
      continue;
    }
    c->header[c->header_have++] = data[at++];
    if (c->header_have < 2) continue;
    unsigned char second = c->header[1];
    size_t needed = 2 + ((second & 0x7f) == 126 ? 2 : (second & 0x7f) == 127 ? 8 : 0) +
                    (second & 0x80 ? 4 : 0);
    if (c->header_have < needed) continue;
    uint64_t payload = payload_length(c->header);
    c->header_have = 0;
    if (payload == 0) frames++;
    else c->skip = payload;
  }
  return frames;
}

static int handshake_load(int port, int in_flight);

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[2], "handshakes") == 0) return handshake_load(atoi(argv[1]), atoi(argv[3]));
  if (argc != 5) {
    fprintf(stderr, "usage: %s PORT CONNECTIONS IN_FLIGHT FRAME_FILE\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[1]);
  int count = atoi(argv[2]);
  long in_flight = atol(argv[3]);
  FILE *file = fopen(argv[4], "rb");
  if (file == NULL) fail("open frame file");
  fseek(file, 0, SEEK_END);
  frame_length = ftell(file);
  rewind(file);
  frame = malloc(frame_length);
  if (frame_length == 0 || fread(frame, 1, frame_length, file) != frame_length) fail("read frame");
  fclose(file);
  /* Batches of up to 64 KiB: enough for a pipelined window of small frames in one write. */
  batch_count = frame_length >= 65536 ? 1 : 65536 / frame_length;
  if (batch_count > in_flight) batch_count = in_flight;
  batch = malloc(batch_count * frame_length);
  for (long i = 0; i < batch_count; i++) memcpy(batch + i * frame_length, frame, frame_length);

  epoll_fd = epoll_create1(0);
  if (epoll_fd < 0) fail("epoll_create1");
  struct connection *connections = calloc(count, sizeof *connections);
  for (int i = 0; i < count; i++) {
    struct connection *c = &connections[i];
    c->fd = open_connection(port, UPGRADE_PATH);
    if (fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK) < 0) fail("fcntl");
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c->fd, &event) < 0) fail("epoll_ctl");
  }
  printf("ready\n");
  fflush(stdout);

  static unsigned char buffer[READ_BUFFER];
  struct epoll_event events[256];
  double warmup_ms, window_ms;
  while (next_run(&warmup_ms, &window_ms)) {
    /* Phases: 0 warm-up, 1 counted window, 2 draining (no new sends), then done. */
    int phase = 0;
    long counted = 0, cpu_start = 0;
    double start = now_ms(), window_start = 0;
    for (int i = 0; i < count; i++) {
      connections[i].to_send += in_flight;
      flush(&connections[i]);
    }
    for (;;) {
      double now = now_ms();
      if (phase == 0 && now - start >= warmup_ms) {
        phase = 1;
        counted = 0;
        cpu_start = cpu_us();
        window_start = now;
        printf("start\n");
        fflush(stdout);
      } else if (phase == 1 && now - window_start >= window_ms) {
        printf("end %ld %ld %.0f\n", counted, cpu_us() - cpu_start, (now - window_start) * 1e3);
        fflush(stdout);
        phase = 2;
        /* A frame partly written is finished (the server would wait for its rest); no new ones. */
        for (int i = 0; i < count; i++)
          connections[i].to_send = connections[i].sent_of_current > 0 ? 1 : 0;
      }
      if (phase == 2) {
        long out = 0;
        for (int i = 0; i < count; i++) out += connections[i].outstanding;
        if (out == 0 || now - window_start - window_ms > DRAIN_LIMIT_MS) break;
      }
      double deadline = phase == 0   ? start + warmup_ms
                        : phase == 1 ? window_start + window_ms
                                     : window_start + window_ms + DRAIN_LIMIT_MS;
      int timeout = (int)(deadline - now) + 1;
      int ready = epoll_wait(epoll_fd, events, 256, timeout < 0 ? 0 : timeout);
      if (ready < 0) {
        if (errno == EINTR) continue;
        fail("epoll_wait");
      }
      for (int e = 0; e < ready; e++) {
        struct connection *c = events[e].data.ptr;
        if (events[e].events & EPOLLOUT) flush(c);
        if (!(events[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
        ssize_t got = read(c->fd, buffer, sizeof buffer);
        if (got < 0 && errno == EAGAIN) continue;
        if (got <= 0) {
          errno = got == 0 ? ECONNRESET : errno;
          fail("read");
        }
        long echoes = count_frames(c, buffer, got);
        c->outstanding -= echoes;
        counted += echoes;
        if (phase < 2 && echoes > 0) {
          c->to_send += echoes;
          flush(c);
        }
      }
    }
    printf("idle\n");
    fflush(stdout);
  }
  for (int i = 0; i < count; i++) close(connections[i].fd);
  return 0;
}

/* --- The handshake load --- */

struct handshake {
  int fd;
  /* 0 connecting, 1 reading the head, 2 reading the close frame. */
  int state;
  char in[1024];
  size_t have;
  size_t head_end;
  double started;
};

static char request_text[256];
static int request_length;
/* A masked close frame with status 1000 (mask 11 22 33 44), as a client sends it. */
static const unsigned char close_frame[] = {0x88, 0x82, 0x11, 0x22, 0x33, 0x44, 0x03 ^ 0x11, 0xe8 ^ 0x22};

static void handshake_start(struct handshake *h, int port) {
  h->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (h->fd < 0) fail("socket");
  int one = 1;
  setsockopt(h->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(h->fd, (struct sockaddr *)&address, sizeof address) < 0 && errno != EINPROGRESS)
    fail("connect");
  h->state = 0;
  h->have = 0;
  h->started = now_ms();
  struct epoll_event event = {.events = EPOLLOUT, .data.ptr = h};
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, h->fd, &event) < 0) fail("epoll_ctl");
}

/* Advances one handshake on an event; returns 1 done, -1 failed, 0 not yet. */
static int handshake_step(struct handshake *h, uint32_t events) {
  if (h->state == 0) {
    int error = 0;
    socklen_t size = sizeof error;
    getsockopt(h->fd, SOL_SOCKET, SO_ERROR, &error, &size);
    if (error != 0 || (events & (EPOLLERR | EPOLLHUP))) return -1;
    if (write(h->fd, request_text, request_length) != request_length) return -1;
    h->state = 1;
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = h};
    if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, h->fd, &event) < 0) fail("epoll_ctl");
    return 0;
  }
  ssize_t got = read(h->fd, h->in + h->have, sizeof h->in - h->have);
  if (got < 0 && errno == EAGAIN) return 0;
  if (got <= 0) return -1;
  h->have += got;
  if (h->state == 1) {
    char *end = memmem(h->in, h->have, "\r\n\r\n", 4);
    if (end == NULL) return h->have == sizeof h->in ? -1 : 0;
    /* "HTTP/1.1 101": byte 9 is the status's first digit. */
    if (h->have < 12 || memcmp(h->in + 9, "101", 3) != 0) return -1;
    h->head_end = end + 4 - h->in;
    if (write(h->fd, close_frame, sizeof close_frame) != sizeof close_frame) return -1;
    h->state = 2;
  }
  /* The close frame: 2 header bytes, a mask key if masked, a payload of at most 125 bytes. */
  size_t frame = h->have - h->head_end;
  if (frame < 2) return 0;
  unsigned char second = h->in[h->head_end + 1];
  return frame >= 2 + (second & 0x80 ? 4u : 0u) + (second & 0x7f) ? 1 : 0;
}

static int handshake_load(int port, int in_flight) {
  request_length = upgrade_request(request_text, sizeof request_text, UPGRADE_PATH, port);
  epoll_fd = epoll_create1(0);
  if (epoll_fd < 0) fail("epoll_create1");
  struct handshake *slots = calloc(in_flight, sizeof *slots);
  struct epoll_event events[256];
  printf("ready\n");
  fflush(stdout);
  double warmup_ms, window_ms;
  while (next_run(&warmup_ms, &window_ms)) {
    int phase = 0, active = in_flight;
    long counted = 0, failed = 0, cpu_start = 0;
    double start = now_ms(), window_start = 0;
    for (int i = 0; i < in_flight; i++) handshake_start(&slots[i], port);
    while (active > 0) {
      double now = now_ms();
      if (phase == 0 && now - start >= warmup_ms) {
        phase = 1;
        counted = failed = 0;
        cpu_start = cpu_us();
        window_start = now;
        printf("start\n");
        fflush(stdout);
      } else if (phase == 1 && now - window_start >= window_ms) {
        printf("end %ld %ld %.0f %ld\n", counted, cpu_us() - cpu_start, (now - window_start) * 1e3,
               failed);
        fflush(stdout);
        phase = 2;
      }
      if (phase == 2 && now - window_start - window_ms > DRAIN_LIMIT_MS) break;
      int ready = epoll_wait(epoll_fd, events, 256, phase == 2 ? 100 : 10);
      if (ready < 0) {
        if (errno == EINTR) continue;
        fail("epoll_wait");
      }
      /* Each ready handshake, then (events or not) any that has taken 5 s: it has failed (a
         server that stopped answering), and its slot starts a new one. */
      for (int e = 0; e < ready + in_flight; e++) {
        struct handshake *h = e < ready ? events[e].data.ptr : &slots[e - ready];
        if (h->fd < 0) continue;
        int outcome = e < ready ? handshake_step(h, events[e].events) : 0;
        if (outcome == 0 && now_ms() - h->started > DRAIN_LIMIT_MS) outcome = -1;
        if (outcome == 0) continue;
        close(h->fd);
        h->fd = -1;
        if (outcome > 0) counted++;
        else failed++;
        if (phase < 2) handshake_start(h, port);
        else active--;
      }
    }
    /* Handshakes a server never finished within the drain limit are dropped. */
    for (int i = 0; i < in_flight; i++)
      if (slots[i].fd >= 0) {
        close(slots[i].fd);
        slots[i].fd = -1;
      }
    printf("idle\n");
    fflush(stdout);
  }
  return 0;
}
