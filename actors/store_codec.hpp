// The round store's blobs: a round's catalog of names and the lifecycle,
// in CAF's binary format through their inspect(); decode returns false for
// bytes that are not what encode made.
#pragma once

#include "actors/round_store.hpp"

#include <string>
#include <string_view>

namespace netpol {

std::string encode(const round_catalog& catalog);
bool decode(std::string_view blob, round_catalog& catalog);

std::string encode(const lifecycle_meta& lifecycle);
bool decode(std::string_view blob, lifecycle_meta& lifecycle);

} // namespace netpol
