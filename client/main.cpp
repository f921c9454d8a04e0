#include "client/options.hpp"
#include "client/run_client.hpp"

int main(int argc, char** argv) {
  auto parsed = netpol::client::parse_client_options(argc, argv);
  if (!parsed.options)
    return parsed.exit_code;
  return netpol::client::run_client(*parsed.options);
}
