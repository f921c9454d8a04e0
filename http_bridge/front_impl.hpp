// The front's state, shared by the server (http_bridge/front.cpp) and its
// connections (http_bridge/session.cpp); nothing else includes it.
#pragma once

#include "http_bridge/front.hpp"

#include <boost/asio.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>

namespace netpol {

class session;

struct front::impl {
  using tcp = boost::asio::ip::tcp;

  front_settings settings;
  std::shared_ptr<const request_router> router;
  boost::asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  boost::asio::steady_timer accept_retry{ioc};
  boost::asio::steady_timer grace{ioc};
  boost::asio::thread_pool kube_burner_pool;
  boost::asio::thread_pool operator_pool;
  std::atomic<size_t> queued[2] = {};

  // Counters (read by /metrics from other threads).
  std::atomic<uint64_t> open{0}, accepted{0}, refused_at_cap{0},
    closed_header{0}, closed_body{0}, closed_idle{0}, closed_write{0},
    refused_busy{0}, requests{0};

  // I/O thread only.
  std::unordered_map<session*, std::weak_ptr<session>> sessions;
  bool stopping = false;
  bool body_slot_busy = false;
  std::deque<std::weak_ptr<session>> body_slot_waiters;
  std::chrono::steady_clock::time_point last_cap_log{};

  impl(front_settings s, std::shared_ptr<const request_router> r)
    : settings(std::move(s)),
      router(std::move(r)),
      kube_burner_pool(std::max(1u, settings.kube_burner_threads)),
      operator_pool(std::max(1u, settings.operator_threads)) {
  }

  ~impl() {
    // Handlers still running hold sessions and post to ioc: finish them
    // while everything they touch is alive.
    kube_burner_pool.join();
    operator_pool.join();
  }

  void accept();
  void refuse(tcp::socket& socket);
  void begin_shutdown();
  void maybe_finish_shutdown();
  void grant_body_slot();
};

} // namespace netpol
