// The cheapest milter that asks Postfix for what mtasd asks: the same option
// negotiation (macro lists, no connect or MAIL event, no replies to RCPT,
// headers or body), one write at the end of the message that adds a header
// and continues, and no work at all on the message. Its CPU per message in
// bench/milter_load.sh is the floor that the milter protocol's wake-ups and
// system calls cost on the machine; mtasd's row minus this one is what mtasd
// itself spends.
//   null_milter inet:PORT | unix:PATH
// One thread and one level-triggered epoll set: per wake-up one epoll_wait,
// one read and at most one write, the fewest system calls a milter can make.
// A bench tool, not a product: it trusts the MTA (a packet over 64 KiB ends
// the connection).
#define _GNU_SOURCE  // accept4
#include <arpa/inet.h>
#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum { kMaxPacket = 1 << 16, kMaxConnections = 4096 };

static size_t Put32(char* p, uint32_t v) {
  v = htonl(v);
  memcpy(p, &v, 4);
  return 4;
}

// Appends one packet (length, command, data) to out at *len.
static void Packet(char* out, size_t* len, char command, const char* data, size_t n) {
  *len += Put32(out + *len, (uint32_t)(n + 1));
  out[(*len)++] = command;
  memcpy(out + *len, data, n);
  *len += n;
}

// What the MTA sent on one connection and not yet handled.
struct Connection {
  char in[kMaxPacket + 4];
  size_t filled;
  uint32_t protocol;
};

// Handles one packet (command and data, n bytes); 0 ends the connection.
static int Handle(int fd, struct Connection* c, const char* in, uint32_t n) {
  char out[512];
  size_t len = 0;
  uint32_t protocol = c->protocol;
  char command = in[0];
  if (command == SMFIC_OPTNEG && n >= 13) {  // answered as mtasd answers Postfix
    uint32_t actions, offered;
    memcpy(&actions, in + 5, 4);
    memcpy(&offered, in + 9, 4);
    actions = ntohl(actions), offered = ntohl(offered);
    protocol = (SMFIP_NOHELO | SMFIP_NODATA | SMFIP_NOUNKNOWN | SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_RCPT |
                SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_HDR_LEADSPC) &
               offered;
    char reply[128];
    size_t r = 0;
    r += Put32(reply + r, 6);
    r += Put32(reply + r,
               actions & (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_QUARANTINE | SMFIF_SETSYMLIST));
    size_t protocol_at = r;
    r += 4;
    if (actions & SMFIF_SETSYMLIST) {  // macros with RCPT and EOM; no connect or MAIL event
      protocol |= (SMFIP_NOCONNECT | SMFIP_NOMAIL) & offered;
      static const char kRcpt[] = "{client_addr} {mail_addr}", kEom[] = "i";
      r += Put32(reply + r, SMFIM_ENVRCPT);
      memcpy(reply + r, kRcpt, sizeof kRcpt);
      r += sizeof kRcpt;
      r += Put32(reply + r, SMFIM_EOM);
      memcpy(reply + r, kEom, sizeof kEom);
      r += sizeof kEom;
    }
    Put32(reply + protocol_at, protocol);
    c->protocol = protocol;
    Packet(out, &len, SMFIC_OPTNEG, reply, r);
  } else if (command == SMFIC_BODYEOB) {  // add a header and continue, in one write
    static const char kHeader[] = "\0\0\0\0X-Null\0yes";
    Packet(out, &len, SMFIR_INSHEADER, kHeader, sizeof kHeader);
    Packet(out, &len, SMFIR_CONTINUE, "", 0);
  } else if (command == SMFIC_QUIT) {
    return 0;
  } else if (command == SMFIC_MACRO || command == SMFIC_ABORT || command == SMFIC_QUIT_NC) {
    // no reply
  } else if (!((command == SMFIC_CONNECT && (protocol & SMFIP_NR_CONN)) ||
               (command == SMFIC_MAIL && (protocol & SMFIP_NR_MAIL)) ||
               (command == SMFIC_RCPT && (protocol & SMFIP_NR_RCPT)) ||
               (command == SMFIC_HEADER && (protocol & SMFIP_NR_HDR)) ||
               (command == SMFIC_EOH && (protocol & SMFIP_NR_EOH)) ||
               (command == SMFIC_BODY && (protocol & SMFIP_NR_BODY)))) {
    Packet(out, &len, SMFIR_CONTINUE, "", 0);
  }
  return len == 0 || write(fd, out, len) == (ssize_t)len;
}

// Reads what the socket holds and handles every whole packet in it; 0 ends
// the connection.
static int Readable(int fd, struct Connection* c) {
  ssize_t r = read(fd, c->in + c->filled, sizeof c->in - c->filled);
  if (r <= 0) return 0;
  c->filled += (size_t)r;
  size_t at = 0;
  while (c->filled - at >= 4) {
    uint32_t n;
    memcpy(&n, c->in + at, 4);
    n = ntohl(n);
    if (n == 0 || n > kMaxPacket) return 0;
    if (c->filled - at - 4 < n) break;
    if (!Handle(fd, c, c->in + at + 4, n)) return 0;
    at += 4 + n;
  }
  memmove(c->in, c->in + at, c->filled - at);
  c->filled -= at;
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: null_milter inet:PORT | unix:PATH\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  int listener;
  if (strncmp(argv[1], "inet:", 5) == 0) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1] + 5))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    listener = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(listener, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // inherited by accepted sockets
    if (bind(listener, (struct sockaddr*)&a, sizeof a) != 0) return perror("bind"), 1;
  } else if (strncmp(argv[1], "unix:", 5) == 0) {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", argv[1] + 5);
    unlink(a.sun_path);
    listener = socket(AF_UNIX, SOCK_STREAM, 0);
    if (bind(listener, (struct sockaddr*)&a, sizeof a) != 0) return perror("bind"), 1;
  } else {
    fprintf(stderr, "null_milter: socket must be inet:PORT or unix:PATH\n");
    return 2;
  }
  if (listen(listener, 128) != 0) return perror("listen"), 1;
  static struct Connection* connections[kMaxConnections];
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = listener};
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  for (;;) {
    if (epoll_wait(ep, &ev, 1, -1) != 1) continue;
    int fd = ev.data.fd;
    if (fd == listener) {
      int c = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
      if (c < 0) continue;
      if (c >= kMaxConnections) {
        close(c);
        continue;
      }
      connections[c] = calloc(1, sizeof(struct Connection));
      struct epoll_event add = {.events = EPOLLIN, .data.fd = c};
      epoll_ctl(ep, EPOLL_CTL_ADD, c, &add);
    } else if (!Readable(fd, connections[fd])) {
      free(connections[fd]);
      connections[fd] = NULL;
      close(fd);  // also leaves the epoll set
    }
  }
}
