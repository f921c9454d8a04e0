// SHA-256 of a connection list: netpol-client's /status names the list it
// took by it, and the proxy compares it with the list it sent
// (actors/list_confirmation.hpp).
#pragma once

#include <string>
#include <string_view>

namespace netpol {

/// The SHA-256 of `bytes`, 64 lowercase hex digits.
std::string sha256_hex(std::string_view bytes);

} // namespace netpol
