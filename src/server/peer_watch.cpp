#include "server/peer_watch.h"

#include <dirent.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cstdlib>
#include <string>

namespace edgelm::server {
namespace {

struct Endpoint {
  std::string address;  // numeric, as httplib writes Request::remote_addr
  int port = -1;
};

Endpoint endpoint_of(const sockaddr_storage& address, socklen_t length) {
  char host[NI_MAXHOST];
  char service[NI_MAXSERV];
  int rc = ::getnameinfo(reinterpret_cast<const sockaddr*>(&address), length, host, sizeof(host), service,
                         sizeof(service), NI_NUMERICHOST | NI_NUMERICSERV);
  if (rc != 0) return {};
  return {host, std::atoi(service)};
}

// True when `fd` is a connected socket with these local and remote ends.
bool socket_matches(int fd, const httplib::Request& request) {
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISSOCK(info.st_mode)) return false;

  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return false;
  Endpoint remote = endpoint_of(address, length);
  if (remote.port != request.remote_port || remote.address != request.remote_addr) return false;

  length = sizeof(address);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return false;
  Endpoint local = endpoint_of(address, length);
  return local.port == request.local_port && local.address == request.local_addr;
}

// Calls visit(fd) for each open file descriptor of this process until it returns false.
template <typename Visit>
void for_each_open_fd(Visit visit) {
  DIR* directory = ::opendir("/proc/self/fd");
  if (directory == nullptr) return;
  const int own_fd = ::dirfd(directory);
  while (dirent* entry = ::readdir(directory)) {
    char* end = nullptr;
    long fd = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || fd == own_fd) continue;
    if (!visit(static_cast<int>(fd))) break;
  }
  ::closedir(directory);
}

}  // namespace

PeerWatch::PeerWatch(const httplib::Request& request) {
  if (request.remote_port < 0 || request.local_port < 0) return;
  for_each_open_fd([&](int fd) {
    if (!socket_matches(fd, request)) return true;
    fd_ = fd;
    return false;
  });
}

bool PeerWatch::closed() const {
  if (fd_ < 0) return false;
  pollfd entry{fd_, POLLRDHUP, 0};
  if (::poll(&entry, 1, 0) <= 0) return false;
  return (entry.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

void shut_down_reads(int local_port) {
  for_each_open_fd([&](int fd) {
    // A connected socket (it has a peer) whose local end is the server's port.
    struct stat info {};
    if (::fstat(fd, &info) != 0 || !S_ISSOCK(info.st_mode)) return true;
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return true;
    length = sizeof(address);
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return true;
    if (endpoint_of(address, length).port == local_port) ::shutdown(fd, SHUT_RD);
    return true;
  });
}

}  // namespace edgelm::server
