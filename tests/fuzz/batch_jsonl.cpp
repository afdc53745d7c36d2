// libFuzzer target: the JSONL batch reader (core/batch), as `run` reads a batch file.
#include "batch_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    assetgen::fuzz::MemFile file(data, size);
    const auto read = assetgen::fuzz::read_all(file.path(), assetgen::batch::Format::jsonl);
    (void)read;
    return 0;
}
