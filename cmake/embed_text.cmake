# cmake -DIN=file -DOUT=file.cpp -DNAME=function -P embed_text.cmake
# Writes a .cpp defining `std::string_view assetgen::budget::NAME()` that returns IN's bytes
# (a raw string literal; IN must not contain the delimiter `)assetgen_embed"`).
file(READ "${IN}" content)
string(FIND "${content}" ")assetgen_embed\"" bad)
if(NOT bad EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw-string delimiter")
endif()
file(WRITE "${OUT}.tmp" "// Generated from ${IN} by cmake/embed_text.cmake. Do not edit.\n#include <string_view>\nnamespace assetgen::budget {\nstd::string_view ${NAME}() {\n    static constexpr std::string_view text = R\"assetgen_embed(${content})assetgen_embed\";\n    return text;\n}\n}  // namespace assetgen::budget\n")
file(RENAME "${OUT}.tmp" "${OUT}")
