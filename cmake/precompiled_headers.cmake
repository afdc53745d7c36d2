# Precompiled headers (option ASSETGEN_PCH, on by default): nlohmann/json and the standard
# headers most files include are parsed once per build instead of once per file. The core
# libraries and the binary share one PCH, made by assetgen_util (same flags; the date library's
# -D macros do not occur in these headers, so gcc accepts the PCH under them: -Winvalid-pch says
# when it does not). The test binary has its own, with Catch2.
#
# CLI11 is deliberately not precompiled: most of its cost is code, not parsing. Its validators
# (CLI::ExistingFile, CLI::Number, ...) are objects defined in the header, built again in every
# file that includes it, PCH or not: an empty file with a CLI11 PCH takes 4 s at -O2, against
# 0.5 s with this one. So CLI11 stays in the cli files that define options (cli/cli11_fwd.hpp).
#
# With ccache, a PCH needs `sloppiness=pch_defines,time_macros` and gcc's -fpch-preprocess:
# the launcher set in CMakeLists.txt and scripts/build give both.

set(assetgen_pch_headers
  <nlohmann/json.hpp>
  <algorithm> <atomic> <chrono> <cstdint> <filesystem> <fstream> <functional> <map> <memory>
  <mutex> <optional> <sstream> <string> <string_view> <thread> <vector>)

# Every core library with sources, and the binary, on util's PCH.
function(assetgen_use_pch)
  target_precompile_headers(assetgen_util PRIVATE ${assetgen_pch_headers})
  foreach(target IN LISTS ARGN)
    get_target_property(type ${target} TYPE)
    if(NOT type STREQUAL "INTERFACE_LIBRARY" AND NOT target STREQUAL "assetgen_util")
      target_precompile_headers(${target} REUSE_FROM assetgen_util)
    endif()
  endforeach()
endfunction()

if(ASSETGEN_PCH AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  add_compile_options(-Winvalid-pch -fpch-preprocess)
endif()
