#pragma once
// Output too long to hold in memory until a run ends (a results CSV of a million rows): written
// as a stream into a nameless temp file in $TMPDIR (the Context's temp_dir), which disappears on
// every exit path (it is unlinked as soon as it exists), and copied to its place atomically at the
// end.

#include <memory>
#include <ostream>
#include <streambuf>
#include <string>
#include <vector>

#include "util/status.hpp"

namespace assetgen::util {

// A nameless temp file in dir (O_TMPFILE, else mkostemp unlinked at once), open for reading
// and writing. STORAGE_IO naming the folder when it cannot be made; `what` says for what, in
// that message. dir: $TMPDIR as the command line's Context read it (Context::places.temp_dir).
Result<int> anonymous_temp_file(const std::string& what, const std::string& dir = "/tmp");

class TempStream {
public:
    // In dir, as anonymous_temp_file.
    static Result<std::unique_ptr<TempStream>> create(const std::string& what,
                                                      const std::string& dir = "/tmp");
    ~TempStream();
    TempStream(const TempStream&) = delete;
    TempStream& operator=(const TempStream&) = delete;

    std::ostream& stream() { return m_stream; }
    // Writes what is buffered; the first write failure, if any, from then on.
    Status flush();
    // The temp file (after flush(): everything streamed), for copy_file_atomic.
    int fd() const { return m_buf.fd; }
    // The whole content (for a destination that takes it whole, such as a gs:// object).
    Result<std::string> read_all();

private:
    struct Buf : std::streambuf {
        int fd = -1;
        std::string what;
        std::string dir;  // for messages
        std::vector<char> data = std::vector<char>(1 << 16);
        Status failed = ok_status();
        Buf();
        bool drain();
        int_type overflow(int_type c) override;
        int sync() override;
    };
    TempStream() : m_stream(&m_buf) {}
    Buf m_buf;
    std::ostream m_stream;
};

}  // namespace assetgen::util
