// Tests of PcapWriter: the classic libpcap file format, read back by libtins/libpcap.
#include <tins/tins.h>
#include <catch2/catch.hpp>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "stack/core/pcap.hpp"

using namespace tapir;

namespace {

std::vector<std::uint8_t> bytes_of(const std::string& s) {
  return {s.begin(), s.end()};
}

const std::vector<std::uint8_t> kGlobalHeader = {
    0xd4, 0xc3, 0xb2, 0xa1,  // magic 0xa1b2c3d4, little-endian: microsecond stamps
    0x02, 0x00, 0x04, 0x00,  // version 2.4
    0x00, 0x00, 0x00, 0x00,  // thiszone
    0x00, 0x00, 0x00, 0x00,  // sigfigs
    0x00, 0x00, 0x04, 0x00,  // snaplen 262144
    0x01, 0x00, 0x00, 0x00,  // LINKTYPE_ETHERNET
};

// A broadcast ARP-looking frame, 42 bytes.
std::vector<std::uint8_t> sample_frame() {
  std::vector<std::uint8_t> frame(42);
  for (std::size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<std::uint8_t>(i * 3);
  return frame;
}

}  // namespace

TEST_CASE("a pcap file opens with the 24-byte global header", "[pcap]") {
  std::ostringstream out;
  PcapWriter writer(out);
  CHECK(bytes_of(out.str()) == kGlobalHeader);
}

TEST_CASE("a pcap record holds the stamp, both lengths and the frame", "[pcap]") {
  std::ostringstream out;
  PcapWriter writer(out);
  const auto frame = sample_frame();
  writer.write(Instant::from_micros(1'700'000'000'123'456), frame);

  std::vector<std::uint8_t> expected = kGlobalHeader;
  const std::vector<std::uint8_t> record_header = {
      0x00, 0xf1, 0x53, 0x65,  // seconds 1700000000 = 0x6553f100
      0x40, 0xe2, 0x01, 0x00,  // microseconds 123456 = 0x0001e240
      0x2a, 0x00, 0x00, 0x00,  // captured 42
      0x2a, 0x00, 0x00, 0x00,  // on the wire 42
  };
  expected.insert(expected.end(), record_header.begin(), record_header.end());
  expected.insert(expected.end(), frame.begin(), frame.end());
  CHECK(bytes_of(out.str()) == expected);
}

TEST_CASE("a frame longer than snaplen is cut, with its real length recorded", "[pcap]") {
  std::ostringstream out;
  PcapWriter writer(out, 16);
  const auto frame = sample_frame();
  writer.write(Instant::from_micros(2'000'001), frame);
  const auto bytes = bytes_of(out.str());
  REQUIRE(bytes.size() == 24 + 16 + 16);
  CHECK(std::vector<std::uint8_t>(bytes.begin() + 16, bytes.begin() + 20) ==
        std::vector<std::uint8_t>{0x10, 0, 0, 0});  // snaplen in the global header
  CHECK(std::vector<std::uint8_t>(bytes.begin() + 24, bytes.begin() + 40) ==
        std::vector<std::uint8_t>{2, 0, 0, 0, 1, 0, 0, 0, 16, 0, 0, 0, 42, 0, 0, 0});
  CHECK(std::vector<std::uint8_t>(bytes.begin() + 40, bytes.end()) ==
        std::vector<std::uint8_t>(frame.begin(), frame.begin() + 16));
}

TEST_CASE("libpcap reads back what the writer wrote", "[pcap]") {
  const auto path = std::filesystem::temp_directory_path() /
                    ("tapir_pcap_test_" + std::to_string(::getpid()) + ".pcap");
  Tins::EthernetII sent = Tins::EthernetII("ff:ff:ff:ff:ff:ff", "02:00:00:00:00:01") /
                          Tins::IP("10.0.0.2", "10.0.0.1") / Tins::UDP(9, 7) /  // (dst, src)
                          Tins::RawPDU("hello");
  const auto frame = sent.serialize();
  {
    std::ofstream file(path, std::ios::binary);
    PcapWriter writer(file);
    writer.write(Instant::from_micros(5'000'250), frame);
    writer.write(Instant::from_micros(6'000'000), frame);
  }
  Tins::FileSniffer sniffer(path.string());
  std::vector<Tins::Packet> packets;
  sniffer.sniff_loop([&](Tins::Packet& p) {
    packets.push_back(p);
    return true;
  });
  std::filesystem::remove(path);

  REQUIRE(packets.size() == 2);
  CHECK(packets[0].timestamp().seconds() == 5);
  CHECK(packets[0].timestamp().microseconds() == 250);
  CHECK(packets[1].timestamp().seconds() == 6);
  const auto& got = packets[0].pdu()->rfind_pdu<Tins::EthernetII>();
  CHECK(got.dst_addr() == Tins::EthernetII::address_type("ff:ff:ff:ff:ff:ff"));
  CHECK(got.rfind_pdu<Tins::IP>().dst_addr() == Tins::IPv4Address("10.0.0.2"));
  CHECK(got.rfind_pdu<Tins::UDP>().dport() == 9);
  CHECK(packets[0].pdu()->serialize() == frame);
}
