// PcapRecorder: tees frames in both directions into a shared PcapFile.
#include "drivers/pcap_recorder.hpp"

#include <cerrno>
#include <system_error>

namespace tapir {

namespace {

std::ofstream open_for_writing(const std::string& path) {
  errno = 0;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) {
    throw std::system_error(errno != 0 ? errno : EIO, std::system_category(),
                            "cannot write pcap file " + path);
  }
  return out;
}

}  // namespace

PcapFile::PcapFile(const std::string& path, Duration utc_offset)
    : out_(open_for_writing(path)), writer_(out_), utc_offset_(utc_offset) {}

void PcapFile::write(Instant now, std::span<const std::uint8_t> frame) {
  std::lock_guard lock(mutex_);
  writer_.write(now + utc_offset_, frame);
  dirty_ = true;
}

void PcapFile::flush() {
  std::lock_guard lock(mutex_);
  if (!dirty_) return;
  out_.flush();
  dirty_ = false;
}

PcapRecorder::PcapRecorder(std::unique_ptr<Driver> inner, std::shared_ptr<PcapFile> file)
    : inner_(std::move(inner)), file_(std::move(file)) {}

std::size_t PcapRecorder::receive(Instant now, const FrameHandler& on_frame, std::size_t budget) {
  struct Tee {
    PcapFile* file;
    const FrameHandler* out;
    Instant now;
  } tee{file_.get(), &on_frame, now};
  // One pointer captured: the std::function keeps it in its small buffer (no allocation).
  const FrameHandler record = [t = &tee](std::span<const std::uint8_t> frame) {
    t->file->write(t->now, frame);
    (*t->out)(frame);
  };
  const std::size_t count = inner_->receive(now, record, budget);
  file_->flush();
  return count;
}

void PcapRecorder::transmit(Instant now, std::span<const std::uint8_t> frame) {
  file_->write(now, frame);
  inner_->transmit(now, frame);
}

}  // namespace tapir
