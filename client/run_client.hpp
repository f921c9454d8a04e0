// netpol-client as a process: the server, the prober and the scheduler on
// one io_context, until SIGTERM or SIGINT.
#pragma once

#include "client/options.hpp"

namespace netpol::client {

/// Runs until SIGTERM or SIGINT (exit 0); 1 when the server cannot listen.
int run_client(const client_options& options);

} // namespace netpol::client
