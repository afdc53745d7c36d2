// The one Catch2 main of the test binary; every test file only includes catch2/catch.hpp.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
