// libFuzzer target: the CSV batch reader (core/batch), as `run` reads a batch file.
#include "batch_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    assetgen::fuzz::MemFile file(data, size);
    const auto read = assetgen::fuzz::read_all(file.path(), assetgen::batch::Format::csv);
    assetgen::fuzz::check_csv_round_trip(read);
    return 0;
}
