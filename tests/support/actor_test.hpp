// Prelude for deterministic actor tests under CAF's test coordinator.
#pragma once

#include "messages/register.hpp"
#include "support/test.hpp"

// CAF 0.17.6's dsl.hpp calls an undefined FAIL in request<T>().
#define FAIL(msg) CAF_FAIL(msg)
#include <caf/test/dsl.hpp>

namespace netpol::test {

/// An actor system config with our types and no config file.
struct test_config : caf::actor_system_config {
  test_config() {
    register_types(*this);
    config_file_path.clear();
  }
};

} // namespace netpol::test
