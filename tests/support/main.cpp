// The test runner's main(); one per test binary.
#include <caf/test/unit_test_impl.hpp>
