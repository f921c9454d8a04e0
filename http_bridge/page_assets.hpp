// The live page (GET /) and its CSS and JS, embedded in the binary at build
// time from http_bridge/page/ (CMakeLists.txt writes page_assets.cpp).
#pragma once

#include <cstddef>
#include <string_view>

namespace netpol {

struct page_asset {
  const char* path;          // "/", "/ui/page-<hash>.js"
  const char* content_type;
  const char* cache_control; // the page: revalidate; hashed assets: for good
  std::string_view body;
};

extern const page_asset page_assets[];
extern const size_t page_asset_count;

/// The asset served at `path`, or nullptr.
const page_asset* find_page_asset(std::string_view path);

} // namespace netpol
