#include "http_bridge/options.hpp"
#include "http_bridge/proxy.hpp"

int main(int argc, char** argv) {
  auto parsed = netpol::parse_options(argc, argv);
  if (!parsed.options)
    return parsed.exit_code;
  return netpol::run_proxy(*parsed.options);
}
