#include "common/http/recordio.hpp"

namespace dcos::http {
namespace {

// Longer than any sane length line: refusing early keeps a garbage stream from growing the buffer.
constexpr size_t kMaxLengthDigits = 20;

}  // namespace

Result<void> RecordIoDecoder::parseLength(std::string_view line) {
  bool digits = !line.empty() && line.size() <= kMaxLengthDigits;
  for (char c : line) digits = digits && c >= '0' && c <= '9';
  if (!digits) {
    std::string shown(line.substr(0, 32));
    return Error(ErrorCode::kInvalidArgument, "RecordIO: bad record length '" + shown + "'");
  }
  size_t length = 0;
  for (char c : line) {
    size_t next = length * 10 + static_cast<size_t>(c - '0');
    if (next / 10 != length || next > maxRecordBytes_) {
      return Error(ErrorCode::kInvalidArgument, "RecordIO: record length " + std::string(line) +
                                                    " exceeds the limit of " + std::to_string(maxRecordBytes_) +
                                                    " bytes");
    }
    length = next;
  }
  length_ = length;
  return success();
}

Result<std::vector<std::string>> RecordIoDecoder::feed(std::string_view data) {
  if (error_) return *error_;
  buffer_.append(data);
  std::vector<std::string> records;
  while (true) {
    std::string_view rest(buffer_.data() + consumed_, buffer_.size() - consumed_);
    if (!length_) {
      size_t newline = rest.find('\n');
      if (newline == std::string_view::npos) {
        if (rest.size() > kMaxLengthDigits) {
          error_ = Error(ErrorCode::kInvalidArgument,
                         "RecordIO: no record length within " + std::to_string(kMaxLengthDigits) + " bytes");
          return *error_;
        }
        break;
      }
      if (auto ok = parseLength(rest.substr(0, newline)); !ok) {
        error_ = ok.error();
        return *error_;
      }
      consumed_ += newline + 1;
      continue;
    }
    if (rest.size() < *length_) break;
    records.emplace_back(rest.substr(0, *length_));
    consumed_ += *length_;
    length_.reset();
  }
  // Drop decoded bytes once they dominate the buffer, so the cost stays linear in the input.
  if (consumed_ > 0 && consumed_ * 2 >= buffer_.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  return records;
}

}  // namespace dcos::http
