#pragma once
// Incremental decoder for Mesos RecordIO, the framing of v1 API event streams: each record is
// its length in decimal ASCII, a '\n', then exactly that many bytes ("20\n{\"type\":\"PING\"}...").
// The encoder is http::recordIoFrame() in common/http/http.hpp.
//
// A stream arrives in arbitrary pieces: a record may be split across several pieces and one
// piece may hold several records; feed() copes with both. Not thread-safe: one decoder per
// stream, fed from one thread.

#include "common/result.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dcos::http {

class RecordIoDecoder {
 public:
  static constexpr size_t kDefaultMaxRecordBytes = 64 * 1024 * 1024;

  explicit RecordIoDecoder(size_t maxRecordBytes = kDefaultMaxRecordBytes) : maxRecordBytes_(maxRecordBytes) {}

  // Appends `data` and returns the records it completed, in stream order (possibly none).
  // A length line that is not 1 to 20 decimal digits, or a length above maxRecordBytes, is a
  // kInvalidArgument error; the decoder then stays failed and returns that error on every call,
  // because the rest of the stream cannot be framed any more.
  Result<std::vector<std::string>> feed(std::string_view data);

  // True when no partial record is buffered, i.e. the stream may end here without losing data.
  bool atRecordBoundary() const { return buffer_.size() == consumed_ && !length_; }

 private:
  Result<void> parseLength(std::string_view line);

  size_t maxRecordBytes_;
  std::string buffer_;
  size_t consumed_ = 0;            // bytes of buffer_ already decoded
  std::optional<size_t> length_;   // length of the record being read, once its line is in
  std::optional<Error> error_;
};

}  // namespace dcos::http
