// The TCP simulator matrix: one bulk transfer per cell (congestion control, loss, RTT, buffer)
// between two stacks on a seeded memory link, and its goodput on the virtual clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "stack/core/time.hpp"

namespace tapir::test::matrix {

// What every cell shares (docs/TCP.md, "The simulator matrix"). Without a bottleneck the
// memory link carries any rate, so a loss-free cell would measure only window/RTT and the
// congestion controls would never meet a full queue: 100 Mbit/s each way, with a drop-tail
// queue of 20 ms at that rate (the bandwidth-delay product of the middle RTT).
inline constexpr std::uint64_t bottleneck_rate = 100'000'000;  // bit/s, each direction
inline constexpr std::size_t bottleneck_queue = 250'000;       // bytes
inline constexpr std::uint64_t link_seed = 20'261'204;
// Data in a full-sized segment (MSS − 12 for the timestamps) and the frame that carries it.
inline constexpr std::uint32_t segment_payload = 1448;
inline constexpr std::uint32_t segment_frame = 1448 + 12 + 20 + 20 + 14;

struct Cell {
  std::string cc;   // the sender's TCP_CONGESTION: "reno" or "cubic"
  double loss = 0;  // the chance a frame is lost, each direction
  Duration rtt{0};  // the base round trip: RTT/2 of delay each way
  int buffer = 0;   // SO_RCVBUF and SO_SNDBUF on both sockets (stored doubled, as Linux)

  // "cubic 0.1 20 65536": the golden table's first four columns (loss in %, RTT in ms).
  std::string key() const;
};

// The grid: {reno, cubic} × loss {0, 0.1, 1, 5} % × RTT {1, 20, 100} ms × buffer
// {64 KiB, 1 MiB}.
std::vector<Cell> cells();
// The bytes a cell moves: 32 MiB without loss; else enough segments for about 1000 of them to
// be lost, at most 384 MiB (about 280 losses at 0.1%). Another seed then moves a cell's
// goodput by a few percent, by up to ~8% (one standard deviation) in the noisiest cells.
std::uint64_t transfer_bytes(const Cell& cell);

struct Result {
  Cell cell;
  std::uint64_t bytes = 0;      // the transfer's size
  std::uint64_t delivered = 0;  // bytes read, each equal to the pattern at its offset
  bool exact = false;           // all of them, then the FIN, and nothing more
  std::string error;            // why not
  Duration elapsed{0};          // connect() to the last byte read, virtual
  double goodput = 0;           // bits delivered per virtual second
  int window = 0;  // the smaller of the sender's SO_SNDBUF and the receiver's SO_RCVBUF
  std::uint64_t retransmits = 0;  // the sender's tcpRetransSegs
  std::uint64_t timeouts = 0;     // the sender's tcpTimeouts
  std::uint64_t lost = 0;         // frames toward the receiver the link lost
  std::uint64_t overflowed = 0;   // and those its bottleneck queue dropped
};

Result run(const Cell& cell);
// Runs the cells on `threads` threads (each cell is its own pair of stacks); results in order.
std::vector<Result> run_all(const std::vector<Cell>& cells, unsigned threads);

// Mathis, Semke, Mahdavi, Ott (1997): a Reno flow losing a fraction p of its segments gets
// about MSS/RTT · C/√p, C = √(3/2) ≈ 1.22. Bit/s; infinite without loss.
double mathis_rate(const Cell& cell);
// What the cell could reach whatever its loss: the window per base RTT, and the bottleneck's
// rate less the headers. Bit/s.
double window_ceiling(const Result& result);
double link_ceiling();

// The golden table: a line per cell, "cc loss% rtt_ms buffer bytes goodput_bps retrans
// timeouts", after comment lines starting with '#'.
std::string format_table(const std::vector<Result>& results);
struct GoldenRow {
  std::uint64_t bytes = 0;
  double goodput = 0;
};
// By Cell::key(); malformed lines are skipped.
std::map<std::string, GoldenRow> parse_golden(std::string_view text);

}  // namespace tapir::test::matrix
