#pragma once
// Notices that the client of a request closed its connection while the
// handler is still working and has written nothing yet (a non-streaming
// completion), so that the job can be cancelled instead of running on.

#include <httplib.h>

namespace edgelm::server {

class PeerWatch {
 public:
  // Finds the socket `request` arrived on among this process's open file
  // descriptors by its address pair. Linux only: elsewhere nothing is found.
  explicit PeerWatch(const httplib::Request& request);

  // True once the client closed or reset the connection. False when the
  // socket was not found.
  // NOTE: a client that shuts down only its sending side after the request
  // also reads as closed; HTTP clients keep both sides open while waiting.
  bool closed() const;

  bool found() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Shuts down the reading side of every connection this process accepted on
// `local_port`. When httplib stops, it waits out the keep-alive timeout of
// idle connections, but a connection that reads end-of-file closes at once.
// Writes on such a connection fail too. Linux only.
void shut_down_reads(int local_port);

}  // namespace edgelm::server
