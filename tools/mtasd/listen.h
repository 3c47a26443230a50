// Listening sockets in libmilter's notation, for the milter and the
// metrics endpoint.
#pragma once

#include <string>

namespace mtasd {

// unix:/PATH or local:/PATH.
bool IsUnixSocket(const std::string& spec);

// inet:PORT@ADDRESS, inet6:PORT@ADDRESS or unix:/PATH -> a listening socket
// (close-on-exec), or -1 with *error naming the socket and the OS reason.
// A unix socket's old file is replaced; the new one is mode 0660.
int Listen(const std::string& spec, std::string* error);

// The peer's IP address of an accepted TCP connection ("" for others).
std::string PeerAddress(int fd);

}  // namespace mtasd
