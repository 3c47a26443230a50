// The library's network waits (a DNS query, a download) announced to the
// host program, for a daemon that serves many connections with few threads.
#pragma once

namespace mtas {

// Called on the waiting thread just before the library waits on the network.
// It must not block. Process-wide: set it once at start, before any thread
// uses the library. nullptr (the default) announces nothing.
using BlockingHook = void (*)();
void SetBlockingHook(BlockingHook hook);

// Calls the hook, if one is set. The library calls this before each wait.
void AnnounceBlocking();

}  // namespace mtas
