#include "messages/digest.hpp"

#include <sha2.h> // libmd

namespace netpol {

std::string sha256_hex(std::string_view bytes) {
  char hex[SHA256_DIGEST_STRING_LENGTH];
  SHA256Data(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
             hex);
  return hex;
}

} // namespace netpol
